"""The MiniDeployment controller (pkg/controller/deployment): model.py the typed views, util.py deployment_util.go."""
