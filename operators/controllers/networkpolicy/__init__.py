"""The MiniNetworkPolicy controller: status, conditions and the optional native mirror of each policy."""
