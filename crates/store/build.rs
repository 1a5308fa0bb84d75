//! `sqlx::migrate!` embeds `migrations/` at compile time, but stable Rust cannot tell Cargo that
//! a proc macro read a directory: without this, adding a migration leaves a stale schema in
//! every incremental build.

fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
