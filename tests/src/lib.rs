//! placeholder: the harness modules land in the next commit
pub mod spew;
