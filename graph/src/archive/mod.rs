//! Layer tars: apply (with whiteouts and path-traversal checks), tar-split
//! records for byte-exact reassembly, and diffs of a directory against its
//! parent. Re-creates Docker 1.2's `archive` package (`ApplyLayer`,
//! `Changes`, `ExportChanges`) with the later releases' safety checks.

mod apply;
mod diff;
mod split;
#[cfg(test)]
pub(crate) mod tests;

pub use apply::{Applied, OVERLAY_OPAQUE_XATTR, WHITEOUT_OPAQUE, WHITEOUT_PREFIX, apply_layer};
pub use diff::{Change, ChangeKind, changes, export_diff};
pub use split::Reassemble;

pub(crate) use apply::set_times;
pub(crate) use split::hex;
