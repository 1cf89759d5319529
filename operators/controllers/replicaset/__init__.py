"""The MiniReplicaSet controller (pkg/controller/replicaset): pure decision logic, plus the runtime glue.

model.py holds the typed view of a MiniReplicaSet, deletion.py getPodsToDelete, slowstart.py slowStartBatch,
status.py replica_set_utils.go and sync.py the pure part of manageReplicas and the availability requeue.
"""
