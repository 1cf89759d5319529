"""The NetworkPolicy that mirrors a MiniNetworkPolicy with --mirror-native (operators/controllers/networkpolicy/mirror.py)."""

from __future__ import annotations

from operators.controllers.networkpolicy.mirror import desired_native_policy, foreign_message, is_mirror_of
from operators.controllers.networkpolicy.model import MiniNetworkPolicyView, NativePolicyView
from operators.kube.applied import APPLIED_HASH_ANNOTATION, up_to_date

SPEC = {"podSelector": {"matchLabels": {"app": "web"}}, "ingress": [{"ports": [{"port": 80}]}]}


def mini(spec: dict[str, object] = SPEC) -> MiniNetworkPolicyView:
    return MiniNetworkPolicyView.from_dict(
        {
            "metadata": {
                "namespace": "ns",
                "name": "web",
                "uid": "u1",
                "labels": {"team": "a"},
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}", "note": "n"},
            },
            "spec": spec,
        }
    )


def test_the_mirror_has_the_same_spec_an_owner_and_a_label() -> None:
    body = desired_native_policy(mini())
    assert (body["apiVersion"], body["kind"]) == ("networking.k8s.io/v1", "NetworkPolicy")
    assert body["spec"] == SPEC
    assert body["metadata"]["labels"] == {"team": "a", "minik8s.dev/mirrored-from": "web"}
    assert set(body["metadata"]["annotations"]) == {"note", APPLIED_HASH_ANNOTATION}, "not kubectl's"
    (ref,) = body["metadata"]["ownerReferences"]
    assert (ref["kind"], ref["uid"], ref["controller"]) == ("MiniNetworkPolicy", "u1", True)


def test_up_to_date_until_the_spec_changes_or_the_mirror_is_edited() -> None:
    body = desired_native_policy(mini())
    served = dict(body, spec={**SPEC, "policyTypes": ["Ingress"]})  # the API server's NP-02 default
    native = NativePolicyView.from_dict(served)
    assert up_to_date(body, native.observed)
    changed = desired_native_policy(mini({"podSelector": {}}))
    assert not up_to_date(changed, native.observed)
    edited = NativePolicyView.from_dict(dict(served, spec={**SPEC, "ingress": [{"ports": [{"port": 81}]}]}))
    assert not up_to_date(body, edited.observed)


def test_a_foreign_network_policy_is_not_ours() -> None:
    foreign = NativePolicyView.from_dict({"metadata": {"namespace": "ns", "name": "web", "uid": "x"}, "spec": {}})
    assert not is_mirror_of(foreign, mini())
    assert "is not controlled by this policy" in foreign_message(foreign, mini())
    ours = NativePolicyView.from_dict(desired_native_policy(mini()) | {"spec": {}})
    assert is_mirror_of(ours, mini())
