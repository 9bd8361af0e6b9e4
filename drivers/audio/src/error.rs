//! The audio errors.

/// The sound device failed.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The device could not be opened or set to 16 kHz mono 16-bit.
    #[error(
        "the sound device {device:?} could not be opened ({reason}): check the device's name (`aplay -L` lists them)"
    )]
    Open { device: String, reason: String },
    /// Writing samples failed and the device could not be recovered.
    #[error("the sound device stopped playing ({0})")]
    Write(String),
}
