"""HTTP plumbing shared by every API function: the resolver, the error shape, the OpenAPI document."""
