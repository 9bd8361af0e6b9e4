//! Compiles the `.slint` screens with the bundled translations in `translations/`. The
//! Japanese catalogues go in with word joiners where a line break would split a word
//! (`text/src/phrases.rs`), easy Japanese with its readings in parentheses after their words
//! (`text/src/furigana.rs`), and so does Japanese with furigana (`ja-furigana`: the
//! Japanese catalogue with a reading on every kanji, shown when a patron or the library
//! turns furigana on); the catalogues in the repository stay plain text.

#[path = "text/src/phrases.rs"]
#[allow(dead_code)]
mod phrases;

#[path = "text/src/furigana.rs"]
#[allow(dead_code)]
mod furigana;

/// Every catalogue, by its directory (`kiosk_core::scene::Language::code`).
/// `ja-furigana` is no language of its own: the Japanese screens with readings.
const LANGUAGES: [&str; 8] = ["ja", "ja-furigana", "ja-easy", "en", "zh-Hans", "ko", "vi", "pt-BR"];

use std::path::{Path, PathBuf};

/// A `.po` file with `f` applied to every translation (`msgstr` and `msgstr[n]`).
fn rewrite(po: &str, f: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(po.len() * 2);
    for line in po.lines() {
        let quoted = line
            .starts_with("msgstr")
            .then(|| line.split_once(" \""))
            .flatten()
            .and_then(|(key, rest)| rest.strip_suffix('"').map(|text| (key, text)));
        match quoted {
            Some((key, text)) if !text.is_empty() => out.push_str(&format!("{key} \"{}\"", f(text))),
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

fn catalogues(out: &Path) -> std::io::Result<PathBuf> {
    let dir = out.join("translations");
    for lang in LANGUAGES {
        let from = Path::new("translations").join(lang).join("LC_MESSAGES/kiosk-ui.po");
        let to = dir.join(lang).join("LC_MESSAGES");
        std::fs::create_dir_all(&to)?;
        let po = std::fs::read_to_string(&from)?;
        let po = match lang {
            "ja" => rewrite(&po, phrases::keep_phrases),
            // Furigana: a line may break between any two words, as Japanese does (kept
            // phrases with their readings would be too long to fit a line); a word never
            // parts from its reading.
            "ja-furigana" => rewrite(&po, furigana::parenthesised_unbroken),
            // Easy Japanese spaces its words: a line breaks at a space, never inside one.
            "ja-easy" => rewrite(&po, |t| phrases::keep_words(&furigana::parenthesised(t))),
            _ => po,
        };
        std::fs::write(to.join("kiosk-ui.po"), po)?;
    }
    Ok(dir)
}

fn main() {
    println!("cargo:rerun-if-changed=translations");
    println!("cargo:rerun-if-changed=text/src/phrases.rs");
    println!("cargo:rerun-if-changed=text/src/furigana.rs");
    // Cargo always sets OUT_DIR; without it the catalogues would be written over the
    // sources, so stop instead.
    let Some(out) = std::env::var_os("OUT_DIR").map(PathBuf::from) else {
        println!("cargo:warning=OUT_DIR is not set: build with cargo");
        std::process::exit(1);
    };
    let translations = match catalogues(&out) {
        Ok(dir) => dir,
        Err(e) => {
            println!("cargo:warning=the translations could not be prepared: {e}");
            std::process::exit(1);
        }
    };
    // Strings are looked up by their English text alone (no per-component context), so one
    // catalogue entry serves every screen that uses the same words.
    let config = slint_build::CompilerConfiguration::new()
        .with_bundled_translations(translations)
        .with_default_translation_context(slint_build::DefaultTranslationContext::None)
        // Element ids and type names, so the screenshot tests can find every Text on screen
        // (Slint's element-search API needs them).
        .with_debug_info(true);
    if let Err(e) = slint_build::compile_with_config("ui/app.slint", config) {
        println!("cargo:warning=the Slint UI failed to compile: {e}");
        std::process::exit(1);
    }
}
