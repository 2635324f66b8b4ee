//! Layer tars: apply (with whiteouts and path-traversal checks), tar-split
//! records for byte-exact reassembly, and diffs of a directory against its
//! parent; and the same checks for tars copied into a container, with
//! paths resolved inside its root (`cp`, `export`). Re-creates Docker 1.2's
//! `archive` package (`ApplyLayer`, `Changes`, `ExportChanges`) with the
//! later releases' safety checks.

mod apply;
mod diff;
mod path;
mod split;
#[cfg(test)]
pub(crate) mod tests;

pub use apply::{
    Applied, ExtractOptions, OVERLAY_OPAQUE_XATTR, WHITEOUT_OPAQUE, WHITEOUT_PREFIX, apply_layer, extract_into,
};
pub use diff::{Change, ChangeKind, changes, export_diff};
pub use path::{
    PathStat, ResolvedPath, go_file_mode, resolve_in_root, resolve_path, stat_path, tar_resource, tar_tree,
};
pub use split::Reassemble;

pub(crate) use apply::set_times;
pub(crate) use split::hex;
