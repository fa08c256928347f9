//! Gives the shared library its SONAME, so programs link against the ABI
//! major version (`libringlog.so.0`), not a file name.

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libringlog.so.{major}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
