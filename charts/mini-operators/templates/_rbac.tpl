{{/*
The operator's permissions: exactly the calls its controllers make (operators/controllers/<kind>/controller.py,
operators/runtime/*), each rule with the calls that need it. No wildcard anywhere; apiGroups carry no version.
The namespaced rules go into the ClusterRole (all namespaces) or into a Role per watched namespace; the
cluster-scoped ones always into a ClusterRole. tests/integration/test_helm.py runs every controller's suite as
this ServiceAccount and fails on any 403.
*/}}

{{- define "mini-operators.namespacedRules" -}}
# Pods: the MiniReplicaSet, MiniDeployment, MiniService and MiniNetworkPolicy informers list and watch them;
# podcontrol.py creates and deletes them (RS-01..RS-12); adoption and release patch their ownerReferences
# (RS-13..RS-16).
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "watch", "create", "delete", "patch"]
# Events with upstream's reasons (runtime/events.py writes core/v1 Events, and bumps `count` with a patch).
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
# The owned Service of a MiniService (SV-01..SV-03): informer list/watch, a GET before the first apply
# (runtime/applier.py), server-side apply (a PATCH, which needs `create` when it creates), a JSON patch that
# removes a foreign selector.
- apiGroups: [""]
  resources: ["services"]
  verbs: ["get", "list", "watch", "create", "patch"]
# The Mini EndpointSlices (ES-01..ES-11): a filtered informer, then create, update (PUT) and delete.
- apiGroups: ["discovery.k8s.io"]
  resources: ["endpointslices"]
  verbs: ["list", "watch", "create", "update", "delete"]
# Kopf watches each controller's own resource; runtime/kopffeed.py lists it (metadata only) for HasSynced and
# pruning; the MiniDeployment controller's informer lists and watches MiniReplicaSets.
# get: the fresh read of the owner before adoption (runtime/refmanager.py, RS-16) and the MiniReplicaSet
# re-read after a status conflict. MiniReplicaSets are created, patched (scale and annotations, adoption and release,
# DP-02) and deleted beyond revisionHistoryLimit (DP-27) by the MiniDeployment controller; MiniDeployments get
# their revision annotation, and a rollback's template, by patch (DP-06..DP-11).
- apiGroups: ["minik8s.dev"]
  resources: ["minireplicasets"]
  verbs: ["get", "list", "watch", "create", "patch", "delete"]
- apiGroups: ["minik8s.dev"]
  resources: ["minideployments"]
  verbs: ["get", "list", "watch", "patch"]
- apiGroups: ["minik8s.dev"]
  resources: ["miniservices", "mininetworkpolicies"]
  verbs: ["list", "watch"]
# Each controller writes its resource's status through the status subresource, as a merge patch.
- apiGroups: ["minik8s.dev"]
  resources:
    - minireplicasets/status
    - minideployments/status
    - miniservices/status
    - mininetworkpolicies/status
  verbs: ["patch"]
# Owned objects carry blockOwnerDeletion: clusters that enable the OwnerReferencesPermissionEnforcement
# admission plugin then require `update` on the owner's finalizers, as kube-controller-manager's controller
# roles grant (replicasets/finalizers for the ReplicaSet controller).
- apiGroups: ["minik8s.dev"]
  resources:
    - minireplicasets/finalizers
    - minideployments/finalizers
    - miniservices/finalizers
    - mininetworkpolicies/finalizers
  verbs: ["update"]
{{- if .Values.mirrorNative }}
# --mirror-native: each MiniNetworkPolicy's NetworkPolicy of the same name (informer list/watch, the GET before
# the first apply, server-side apply create and update). Deleted by the garbage collector, never by the operator.
- apiGroups: ["networking.k8s.io"]
  resources: ["networkpolicies"]
  verbs: ["get", "list", "watch", "create", "patch"]
{{- end }}
{{- end }}

{{- define "mini-operators.clusterRules" -}}
# Nodes: the MiniService controller reads their zones and allocatable CPU (ES-05, ES-12 topology hints).
- apiGroups: [""]
  resources: ["nodes"]
  verbs: ["list", "watch"]
# Namespaces: the MiniNetworkPolicy controller resolves namespaceSelectors against their labels (NP-08).
- apiGroups: [""]
  resources: ["namespaces"]
  verbs: ["list", "watch"]
{{- end }}
