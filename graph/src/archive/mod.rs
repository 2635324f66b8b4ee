//! Layer tars: apply (with whiteouts and path-traversal checks), tar-split
//! records for byte-exact reassembly, and diffs of a directory against its
//! parent.
