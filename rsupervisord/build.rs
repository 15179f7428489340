//! Links the unwinder statically (libgcc_eh.a instead of libgcc_s.so.1); why: the
//! workspace's `static_unwinder.rs`.

include!("../static_unwinder.rs");

fn main() {
    link_unwinder_statically();
}
