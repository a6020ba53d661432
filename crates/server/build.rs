// The web console is embedded from ui/dist (see src/assets.rs): rebuild this
// crate whenever a new console build lands there, files added or removed.
fn main() {
    println!("cargo:rerun-if-changed=../../ui/dist");
    println!("cargo:rerun-if-changed=build.rs");
}
