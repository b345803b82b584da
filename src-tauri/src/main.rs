//! Entry point of the desktop app; everything lives in the library so tests can reach it.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

// Imports allocate per record on one thread and free on another; mimalloc handles that without the
// arena-lock contention measured with glibc's allocator (ARCHITECTURE.md, "Import pipeline").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    tidemark_app_lib::run();
}
