//! Tauri codegen reads `tauri.conf.json` (a symlink to the one at the repo root, so that both plain
//! cargo and the Tauri CLI find it) and embeds `ui/dist`.
fn main() {
    tauri_build::build();
}
