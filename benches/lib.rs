//! Shared helpers for the ringlog benchmarks (see `benches/README.md`).
