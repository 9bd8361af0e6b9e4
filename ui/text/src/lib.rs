//! The kiosk's words outside the screens, from the screens' own message catalogues
//! (`ui/translations`): what receipts and labels print (`words`), easy Japanese's
//! readings (`furigana`), where a Japanese line may break (`phrases`, also applied to the
//! screens' catalogues by kiosk-ui's build script) and what each voice prompt says
//! (`prompts`, made into the prompt pack by the `kiosk-prompts` tool).
//!
//! No Slint: `cargo xtask prompts` builds this crate alone, and the screens build beside
//! everything else.

pub mod furigana;
pub mod phrases;
pub mod prompts;
pub mod words;
