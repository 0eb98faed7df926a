"""Sentence embeddings (all-MiniLM-L6-v2 on onnxruntime) with dynamic micro-batching, served over gRPC."""
