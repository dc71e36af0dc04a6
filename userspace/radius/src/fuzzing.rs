//! Fuzz entry points (placeholder until the client is tested).
