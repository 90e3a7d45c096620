"""The seed documents' Python samples, each with only the endpoint and
credentials configuration added. customer_record_pb2 is generated from
customer_record.proto by the suite (grpc_tools.protoc) before import."""
