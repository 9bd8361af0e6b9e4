//! Compiles the `.slint` screens with the bundled translations in `translations/`.

fn main() {
    // Strings are looked up by their English text alone (no per-component context), so one
    // catalogue entry serves every screen that uses the same words.
    let config = slint_build::CompilerConfiguration::new()
        .with_bundled_translations("translations")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None)
        // Element ids and type names, so the screenshot tests can find every Text on screen
        // (Slint's element-search API needs them).
        .with_debug_info(true);
    println!("cargo:rerun-if-changed=translations");
    if let Err(e) = slint_build::compile_with_config("ui/app.slint", config) {
        println!("cargo:warning=the Slint UI failed to compile: {e}");
        std::process::exit(1);
    }
}
