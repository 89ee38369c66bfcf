//! Renderers of a plan: text, json, markdown (to be built).
