"""Unit tests of the MiniService controller's pure logic: EndpointSlices (ES-xx), the owned Service and status (SV-xx)."""
