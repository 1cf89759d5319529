"""The MiniService controller: a core/v1 Service and its EndpointSlices (pkg/controller/endpointslice)."""
