//! The kiosk's own secrets (the loan journal's key first) on the board's storage: sealed
//! to the board's TPM 2.0 when it has one, or in a file only the kiosk may read.
//!
//! A key sealed to the TPM is stored as `NAME.sealed`: the TPM's encrypted copy, which
//! only that TPM can load (its storage key never leaves it), so the SD card taken out
//! of the kiosk holds nothing that opens the journal. Without a TPM ([`Sealer::File`])
//! the key is a file of mode 0600 beside the data: the card's owner can read it, and
//! docs/security.md says so. A plain key file found when the TPM is first configured is
//! sealed, then overwritten in place and removed (flash wear levelling may keep its old
//! blocks); a sealed key with no TPM configured is refused, never replaced.
//!
//! Sealing under the owner hierarchy's storage primary key (created again from the
//! TPM's seed each time, the same key every time): a sealed data object with no
//! dictionary-attack lockout and an empty authorisation, bound to this TPM and this
//! parent. Clearing the TPM (a new owner seed) makes every sealed key unreadable: the
//! kiosk then says so by name.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ring::rand::{SecureRandom, SystemRandom};
use tss_esapi::Context;
use tss_esapi::attributes::ObjectAttributesBuilder;
use tss_esapi::constants::Tss2ResponseCodeKind;
use tss_esapi::handles::KeyHandle;
use tss_esapi::interface_types::algorithm::{HashingAlgorithm, PublicAlgorithm};
use tss_esapi::interface_types::key_bits::RsaKeyBits;
use tss_esapi::interface_types::resource_handles::Hierarchy;
use tss_esapi::structures::{
    KeyedHashScheme, Private, Public, PublicBuilder, PublicKeyedHashParameters, RsaExponent, SensitiveData,
    SymmetricDefinitionObject,
};
use tss_esapi::tcti_ldr::TctiNameConf;
use tss_esapi::traits::Marshall;
use tss_esapi::traits::UnMarshall;
use zeroize::Zeroizing;

/// What went wrong with a key, by name.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "{path} cannot be read or written ({source}): check that the data partition is mounted and writable"
    )]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "{path} holds {len} bytes, not the {want} of a key: it was damaged or replaced; staff must restore it or start afresh"
    )]
    BadLength { path: PathBuf, len: usize, want: usize },
    #[error(
        "the TPM setting {tcti:?} is not a TPM address: use \"device:/dev/tpmrm0\" (or swtpm:host=…,port=… for a software TPM)"
    )]
    BadTcti { tcti: String },
    #[error(
        "the TPM at {tcti:?} cannot be used ({detail}): check that the TPM module is fitted and enabled in the boot configuration"
    )]
    Tpm { tcti: String, detail: String },
    #[error(
        "{path} was sealed by another TPM, or this TPM was cleared: this board cannot open it. The data it protects \
         (unfinished loans) must be checked at the counter; then remove the file and the journal to start afresh"
    )]
    SealedElsewhere { path: PathBuf },
    #[error(
        "{path} is not a sealed key (bad header or cut short): it was damaged or replaced. The data it protects \
         (unfinished loans) must be checked at the counter; then remove the file and the journal to start afresh"
    )]
    NotSealed { path: PathBuf },
    #[error(
        "{path} is sealed to this board's TPM, but no TPM is configured: set security.tpm again (\"device:/dev/tpmrm0\") \
         so the kiosk can open it"
    )]
    SealedButNoTpm { path: PathBuf },
    #[error("the system's random number generator failed; restart the kiosk")]
    Random,
}

/// Where the kiosk's keys live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sealer {
    /// A file of mode 0600 (no TPM on this board).
    File,
    /// Sealed to the TPM at this TCTI address (`device:/dev/tpmrm0`, `swtpm:host=…,port=…`).
    Tpm(String),
}

const MAGIC: &[u8] = b"kiosk-tpm-sealed v1\n";

impl Sealer {
    /// The key `path` (`len` random bytes made on first use), read or created as this
    /// sealer keeps it. With a TPM, a plain key file found at `path` (a board that got a
    /// TPM later) is sealed, and the plain file is overwritten and removed.
    ///
    /// # Errors
    /// A file that cannot be read or written, a damaged key, a TPM that cannot be
    /// reached, or a key sealed by another TPM.
    pub fn load_or_create(&self, path: &Path, len: usize) -> Result<Zeroizing<Vec<u8>>, KeyError> {
        match self {
            Sealer::File => match read(path)? {
                Some(key) => check_len(path, key, len),
                // A key sealed earlier: a new one would leave what it protects unreadable.
                None if sealed_path(path).exists() => {
                    Err(KeyError::SealedButNoTpm { path: sealed_path(path) })
                }
                None => {
                    let key = random(len)?;
                    write_private(path, &key)?;
                    Ok(key)
                }
            },
            Sealer::Tpm(tcti) => {
                let sealed = sealed_path(path);
                if let Some(blob) = read(&sealed)? {
                    let key = check_len(&sealed, unseal(tcti, &blob, &sealed)?, len)?;
                    // A plain copy left by a power cut between sealing and its removal.
                    if path.exists() {
                        remove_plain(path, len)?;
                    }
                    return Ok(key);
                }
                let (key, plain) = match read(path)? {
                    Some(key) => (check_len(path, key, len)?, true),
                    None => (random(len)?, false),
                };
                write_private(&sealed, &seal(tcti, &key)?)?;
                if plain {
                    remove_plain(path, len)?;
                    tracing::info!(key = %path.display(), "the key file is now sealed to the TPM");
                }
                Ok(key)
            }
        }
    }
}

/// Where the sealed copy of the key file `path` is kept.
#[must_use]
pub fn sealed_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".sealed");
    path.with_file_name(name)
}

fn read(path: &Path) -> Result<Option<Zeroizing<Vec<u8>>>, KeyError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(Zeroizing::new(bytes))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(KeyError::Io { path: path.to_path_buf(), source }),
    }
}

fn check_len(path: &Path, key: Zeroizing<Vec<u8>>, want: usize) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    if key.len() == want {
        Ok(key)
    } else {
        Err(KeyError::BadLength { path: path.to_path_buf(), len: key.len(), want })
    }
}

fn random(len: usize) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let mut key = Zeroizing::new(vec![0; len]);
    SystemRandom::new().fill(&mut key).map_err(|_| KeyError::Random)?;
    Ok(key)
}

/// Removes the plain key file `path` once its sealed copy is safe: overwritten in place
/// with zeros and synced first (on flash, wear levelling may still keep the old blocks:
/// docs/security.md says so), then unlinked.
fn remove_plain(path: &Path, len: usize) -> Result<(), KeyError> {
    let io = |source| KeyError::Io { path: path.to_path_buf(), source };
    let mut f = fs::OpenOptions::new().write(true).open(path).map_err(io)?;
    f.write_all(&vec![0; len]).and_then(|()| f.sync_all()).map_err(io)?;
    drop(f);
    fs::remove_file(path).map_err(io)?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    }
    Ok(())
}

/// Writes `bytes` to `path` (mode 0600) through a temporary file, synced and renamed.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    let io = |source| KeyError::Io { path: path.to_path_buf(), source };
    let tmp = path.with_extension("tmp");
    let mut f =
        fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp).map_err(io)?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(io)?;
    fs::rename(&tmp, path).map_err(io)?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    }
    Ok(())
}

fn tpm_err(tcti: &str) -> impl Fn(tss_esapi::Error) -> KeyError + '_ {
    move |e| KeyError::Tpm { tcti: tcti.to_owned(), detail: e.to_string() }
}

/// A context on the TPM at `tcti` and its storage primary key.
fn open(tcti: &str) -> Result<(Context, KeyHandle), KeyError> {
    let conf = TctiNameConf::from_str(tcti).map_err(|_| KeyError::BadTcti { tcti: tcti.to_owned() })?;
    let mut ctx = Context::new(conf).map_err(tpm_err(tcti))?;
    let template = tss_esapi::utils::create_restricted_decryption_rsa_public(
        SymmetricDefinitionObject::AES_128_CFB,
        RsaKeyBits::Rsa2048,
        RsaExponent::default(),
    )
    .map_err(tpm_err(tcti))?;
    let primary = ctx
        .execute_with_nullauth_session(|c| {
            c.create_primary(Hierarchy::Owner, template, None, None, None, None)
        })
        .map_err(tpm_err(tcti))?;
    Ok((ctx, primary.key_handle))
}

fn sealed_object_template() -> Result<Public, tss_esapi::Error> {
    let attributes = ObjectAttributesBuilder::new()
        .with_fixed_tpm(true)
        .with_fixed_parent(true)
        .with_no_da(true)
        .with_user_with_auth(true)
        .build()?;
    PublicBuilder::new()
        .with_public_algorithm(PublicAlgorithm::KeyedHash)
        .with_name_hashing_algorithm(HashingAlgorithm::Sha256)
        .with_object_attributes(attributes)
        .with_keyed_hash_parameters(PublicKeyedHashParameters::new(KeyedHashScheme::Null))
        .with_keyed_hash_unique_identifier(Default::default())
        .build()
}

/// Seals `secret` to the TPM at `tcti`: the blob this module stores.
fn seal(tcti: &str, secret: &[u8]) -> Result<Vec<u8>, KeyError> {
    let (mut ctx, primary) = open(tcti)?;
    let result = (|| {
        let data = SensitiveData::try_from(secret.to_vec())?;
        let created = ctx.execute_with_nullauth_session(|c| {
            c.create(primary, sealed_object_template()?, None, Some(data), None, None)
        })?;
        let public = created.out_public.marshall()?;
        let private = created.out_private.value().to_vec();
        Ok::<_, tss_esapi::Error>((public, private))
    })();
    let _ = ctx.flush_context(primary.into());
    let (public, private) = result.map_err(tpm_err(tcti))?;
    let mut blob = MAGIC.to_vec();
    for part in [&public, &private] {
        let n = u16::try_from(part.len()).map_err(|_| KeyError::Tpm {
            tcti: tcti.to_owned(),
            detail: "a sealed object larger than 64 KiB".into(),
        })?;
        blob.extend_from_slice(&n.to_be_bytes());
        blob.extend_from_slice(part);
    }
    Ok(blob)
}

/// The blob's two parts, or `None` for bytes that are not one.
fn parts(blob: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut rest = blob.strip_prefix(MAGIC)?;
    let mut take = || {
        let (len, tail) = rest.split_first_chunk::<2>()?;
        let n = usize::from(u16::from_be_bytes(*len));
        let (part, tail) = (tail.get(..n)?, tail.get(n..)?);
        rest = tail;
        Some(part)
    };
    let (public, private) = (take()?, take()?);
    rest.is_empty().then_some((public, private))
}

/// Opens a blob made by [`seal`] on the TPM at `tcti` (`path` names it in errors).
fn unseal(tcti: &str, blob: &[u8], path: &Path) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let not_sealed = || KeyError::NotSealed { path: path.to_path_buf() };
    let (public, private) = parts(blob).ok_or_else(not_sealed)?;
    let public = Public::unmarshall(public).map_err(|_| not_sealed())?;
    let private = Private::try_from(private.to_vec()).map_err(|_| not_sealed())?;
    let (mut ctx, primary) = open(tcti)?;
    // Loading fails its integrity check when another TPM (or this one before it was
    // cleared) made the blob: the check is keyed by a parent this TPM does not have. Any
    // other failure (a busy TPM, its resource manager) is the TPM's, not the file's.
    let loaded = ctx.execute_with_nullauth_session(|c| c.load(primary, private, public));
    let result = match loaded {
        Err(tss_esapi::Error::Tss2Error(rc))
            if matches!(rc.kind(), Some(Tss2ResponseCodeKind::Integrity | Tss2ResponseCodeKind::Binding)) =>
        {
            tracing::warn!(error = %rc, key = %path.display(), "the TPM cannot load the sealed key");
            Err(KeyError::SealedElsewhere { path: path.to_path_buf() })
        }
        Err(e) => Err(tpm_err(tcti)(e)),
        Ok(object) => {
            let data = ctx.execute_with_nullauth_session(|c| c.unseal(object.into()));
            let _ = ctx.flush_context(object.into());
            data.map(|d| Zeroizing::new(d.value().to_vec())).map_err(tpm_err(tcti))
        }
    };
    let _ = ctx.flush_context(primary.into());
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blob_is_read_back_into_its_parts_and_nothing_else_is() {
        let mut blob = MAGIC.to_vec();
        blob.extend_from_slice(&[0, 2, 1, 2, 0, 1, 9]);
        assert_eq!(parts(&blob), Some((&[1u8, 2][..], &[9u8][..])));
        assert_eq!(parts(&blob[..blob.len() - 1]), None, "cut short");
        let mut longer = blob.clone();
        longer.push(0);
        assert_eq!(parts(&longer), None, "trailing bytes");
        assert_eq!(parts(b"kiosk-tpm-sealed v2\n\0\0\0\0"), None, "another header");
    }

    #[test]
    fn the_sealed_copy_sits_beside_the_key_file() {
        assert_eq!(
            sealed_path(Path::new("/var/lib/kiosk/journal.key")),
            Path::new("/var/lib/kiosk/journal.key.sealed")
        );
    }

    #[test]
    fn a_key_file_is_made_private_once_and_read_back() {
        let dir = std::env::temp_dir().join(format!("kiosk-keystore-file-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("journal.key");
        let key = Sealer::File.load_or_create(&path, 32).unwrap();
        assert_eq!(*Sealer::File.load_or_create(&path, 32).unwrap(), *key);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        fs::write(&path, b"short").unwrap();
        assert!(matches!(Sealer::File.load_or_create(&path, 32), Err(KeyError::BadLength { len: 5, .. })));
        // A key sealed earlier and the TPM setting removed: no new key over it.
        fs::remove_file(&path).unwrap();
        fs::write(sealed_path(&path), b"sealed").unwrap();
        assert!(matches!(Sealer::File.load_or_create(&path, 32), Err(KeyError::SealedButNoTpm { .. })));
        assert!(!path.exists());
        let _ = fs::remove_dir_all(&dir);
    }
}
