//! The conformance suite every driver passes.
