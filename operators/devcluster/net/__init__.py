"""The network test bed: kwok's pods as network namespaces with their real IPs, for packets (issue: the dataplane)."""
