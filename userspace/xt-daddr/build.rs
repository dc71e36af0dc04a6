//! Generate the libxtables bindings from the installed `xtables.h` (libxtables-dev): the
//! `struct xtables_target` layout and `XTABLES_VERSION` differ between iptables releases, and
//! libxtables refuses (exits) on a version mismatch, so they must come from the headers of the
//! iptables this extension will be loaded into. `XTABLES_INCLUDE_DIR` selects other headers.
use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=wrapper.h");
    println!("cargo:rerun-if-env-changed=XTABLES_INCLUDE_DIR");
    let mut builder = bindgen::Builder::default()
        .header("wrapper.h")
        .allowlist_type("xtables_target")
        .allowlist_type("xt_entry_target")
        .allowlist_type("option")
        .allowlist_type("xtables_exittype")
        .allowlist_function("xtables_register_targets")
        .allowlist_function("inet_pton")
        .allowlist_function("inet_ntop")
        .allowlist_function("printf")
        .allowlist_var("xt_params")
        .allowlist_var("optarg")
        .allowlist_var("XTABLES_VERSION")
        .allowlist_var("XTABLES_VERSION_CODE")
        .allowlist_var("NFPROTO_IPV4")
        .allowlist_var("NFPROTO_IPV6")
        .allowlist_var("AF_INET")
        .allowlist_var("AF_INET6")
        .allowlist_var("INET6_ADDRSTRLEN")
        .rustified_enum("xtables_exittype")
        .derive_default(true)
        .layout_tests(false)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
    if let Ok(dir) = env::var("XTABLES_INCLUDE_DIR") {
        builder = builder.clang_arg(format!("-I{dir}"));
    }
    let bindings = builder
        .generate()
        .expect("bindgen failed on xtables.h: is libxtables-dev (iptables-devel) installed?");
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR")).join("xtables.rs");
    bindings.write_to_file(&out).expect("write xtables.rs");
    println!("cargo:rustc-link-lib=xtables");
}
