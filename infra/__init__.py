"""The FinScore CDK app: stacks and constructs that deploy the functions, API and data stores."""
