//! The script cache: one file per distinct script, named by the SHA-512 of its contents, in a
//! private per-user directory under the OS temp dir.
//!
//! Security model (README, "The cache directory"):
//! - the directory is `$TMPDIR/proclet-<uid>`, created with mode 0700. If it exists but is a
//!   symlink, not a directory, owned by someone else, or group/world-accessible, proclet refuses
//!   to use it (`ERR_PROCLET_CACHE`) and says how to fix it. Nothing is ever run from it.
//! - a cache file is reused only if it is a regular file (never a symlink: `O_NOFOLLOW`), owned
//!   by us, not group/world-writable, and byte-for-byte the expected contents. Anything else is
//!   replaced.
//! - files are written to a temporary name in the same directory and renamed into place, so a
//!   reader (another process, a Jest worker) sees either no file or a complete one.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha512};

/// Why the cache could not provide a script file.
#[derive(Debug)]
pub enum CacheError {
  /// The directory exists but is not safe to run code from.
  Insecure { path: PathBuf, reason: String },
  /// An I/O operation failed.
  Io {
    path: PathBuf,
    operation: &'static str,
    source: io::Error,
  },
}

impl fmt::Display for CacheError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      CacheError::Insecure { path, reason } => write!(
        f,
        "refusing to use the proclet cache directory {}: {reason}. Remove it (or point TMPDIR \
         elsewhere) and proclet will create a private one",
        path.display()
      ),
      CacheError::Io {
        path,
        operation,
        source,
      } => write!(f, "could not {operation} {}: {source}", path.display()),
    }
  }
}

impl std::error::Error for CacheError {}

/// A verified private cache directory.
pub struct CacheDir {
  path: PathBuf,
  uid: u32,
}

impl CacheDir {
  /// The per-user directory under the OS temp dir (`$TMPDIR`, else `/tmp`).
  pub fn default_path() -> PathBuf {
    std::env::temp_dir().join(format!("proclet-{}", current_uid()))
  }

  /// Creates `path` with mode 0700, or checks that the existing entry is a directory we own that
  /// nobody else can write to or list.
  pub fn open(path: &Path) -> Result<CacheDir, CacheError> {
    let uid = current_uid();
    match fs::DirBuilder::new().mode(0o700).create(path) {
      Ok(()) => {}
      Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
      Err(source) => {
        return Err(CacheError::Io {
          path: path.to_owned(),
          operation: "create the cache directory",
          source,
        })
      }
    }
    // symlink_metadata: a symlink planted at our name is refused, not followed.
    let meta = fs::symlink_metadata(path).map_err(|source| CacheError::Io {
      path: path.to_owned(),
      operation: "inspect the cache directory",
      source,
    })?;
    let insecure = |reason: String| CacheError::Insecure {
      path: path.to_owned(),
      reason,
    };
    if meta.file_type().is_symlink() {
      return Err(insecure("it is a symbolic link".into()));
    }
    if !meta.is_dir() {
      return Err(insecure("it is not a directory".into()));
    }
    if meta.uid() != uid {
      return Err(insecure(format!(
        "it is owned by uid {}, not by the current user (uid {uid})",
        meta.uid()
      )));
    }
    if meta.mode() & 0o077 != 0 {
      return Err(insecure(format!(
        "its mode is {:o}; it must not be accessible to group or others (0700)",
        meta.mode() & 0o7777
      )));
    }
    Ok(CacheDir {
      path: path.to_owned(),
      uid,
    })
  }

  pub fn path(&self) -> &Path {
    &self.path
  }

  /// Returns the path of a file holding exactly `contents`, named by their SHA-512. An existing
  /// file is reused only after it is verified; otherwise it is (re)written atomically.
  pub fn store(&self, contents: &[u8]) -> Result<PathBuf, CacheError> {
    let path = self.path.join(file_name(contents));
    if self.holds(&path, contents) {
      return Ok(path);
    }
    let io_err = |operation, source| CacheError::Io {
      path: path.clone(),
      operation,
      source,
    };
    // NamedTempFile creates the file with O_EXCL and mode 0600 in our private directory.
    let mut tmp = tempfile::Builder::new()
      .prefix(".tmp-")
      .tempfile_in(&self.path)
      .map_err(|e| io_err("create a temporary file for", e))?;
    tmp
      .write_all(contents)
      .map_err(|e| io_err("write a temporary file for", e))?;
    // rename(2) replaces whatever is at `path` (a stale file, a symlink) without following it.
    tmp
      .persist(&path)
      .map_err(|e| io_err("move into place", e.error))?;
    Ok(path)
  }

  /// True if `path` is a regular file we own, not writable by others, with exactly `contents`.
  fn holds(&self, path: &Path, contents: &[u8]) -> bool {
    let Ok(mut file) = OpenOptions::new()
      .read(true)
      .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
      .open(path)
    else {
      return false;
    };
    let Ok(meta) = file.metadata() else {
      return false;
    };
    if !meta.is_file()
      || meta.uid() != self.uid
      || meta.mode() & 0o022 != 0
      || meta.len() != contents.len() as u64
    {
      return false;
    }
    same_contents(&mut file, contents)
  }
}

fn same_contents(file: &mut File, expected: &[u8]) -> bool {
  let mut buf = vec![0u8; 64 * 1024];
  let mut offset = 0;
  loop {
    match file.read(&mut buf) {
      Ok(0) => return offset == expected.len(),
      Ok(n) => {
        if offset + n > expected.len() || buf[..n] != expected[offset..offset + n] {
          return false;
        }
        offset += n;
      }
      Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
      Err(_) => return false,
    }
  }
}

/// `<sha512 hex>.cjs`: `.cjs` so that a stray `package.json` with `"type": "module"` above the
/// temp dir cannot change how Node loads it.
pub fn file_name(contents: &[u8]) -> String {
  let digest = Sha512::digest(contents);
  let mut name = String::with_capacity(digest.len() * 2 + 4);
  for byte in digest.iter() {
    name.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
    name.push(char::from(b"0123456789abcdef"[usize::from(byte & 0xf)]));
  }
  name.push_str(".cjs");
  name
}

fn current_uid() -> u32 {
  // SAFETY: getuid has no preconditions and cannot fail.
  unsafe { libc::getuid() }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::os::unix::fs::{symlink, PermissionsExt};

  fn private_dir() -> (tempfile::TempDir, CacheDir) {
    let root = tempfile::tempdir().unwrap();
    let dir = CacheDir::open(&root.path().join("cache")).unwrap();
    (root, dir)
  }

  #[test]
  fn names_files_by_sha512_of_their_contents() {
    // sha512("abc") from FIPS 180-2.
    assert_eq!(
      file_name(b"abc"),
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
       2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f.cjs"
    );
  }

  #[test]
  fn creates_a_private_directory() {
    let (_root, dir) = private_dir();
    let meta = fs::metadata(dir.path()).unwrap();
    assert_eq!(meta.mode() & 0o777, 0o700);
  }

  #[test]
  fn stores_once_and_reuses_identical_contents() {
    let (_root, dir) = private_dir();
    let a = dir.store(b"console.log(1)").unwrap();
    let inode = fs::metadata(&a).unwrap().ino();
    let b = dir.store(b"console.log(1)").unwrap();
    assert_eq!(a, b);
    assert_eq!(
      fs::metadata(&b).unwrap().ino(),
      inode,
      "reused, not rewritten"
    );
    assert_eq!(fs::read(&a).unwrap(), b"console.log(1)");
    assert_eq!(fs::metadata(&a).unwrap().mode() & 0o777, 0o600);
    assert_ne!(a, dir.store(b"console.log(2)").unwrap());
    let entries = fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(entries, 2, "no temporary files left behind");
  }

  #[test]
  fn rewrites_an_altered_file() {
    let (_root, dir) = private_dir();
    let path = dir.store(b"good();").unwrap();
    fs::write(&path, b"evil();").unwrap();
    assert_eq!(dir.store(b"good();").unwrap(), path);
    assert_eq!(fs::read(&path).unwrap(), b"good();");
  }

  #[test]
  fn rewrites_a_truncated_or_extended_file() {
    let (_root, dir) = private_dir();
    let path = dir.store(b"good();").unwrap();
    fs::write(&path, b"good();evil();").unwrap();
    dir.store(b"good();").unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"good();");
    fs::write(&path, b"go").unwrap();
    dir.store(b"good();").unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"good();");
  }

  #[test]
  fn replaces_a_symlink_without_following_it() {
    let (root, dir) = private_dir();
    let target = root.path().join("target.js");
    fs::write(&target, b"good();").unwrap();
    let path = dir.path().join(file_name(b"good();"));
    symlink(&target, &path).unwrap();
    assert_eq!(dir.store(b"good();").unwrap(), path);
    assert!(!fs::symlink_metadata(&path)
      .unwrap()
      .file_type()
      .is_symlink());
    assert_eq!(fs::read(&target).unwrap(), b"good();", "target untouched");
  }

  #[test]
  fn rewrites_a_world_writable_file() {
    let (_root, dir) = private_dir();
    let path = dir.store(b"x();").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).unwrap();
    dir.store(b"x();").unwrap();
    assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
  }

  #[test]
  fn refuses_a_group_or_world_accessible_directory() {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("cache");
    fs::create_dir(&path).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o777)).unwrap();
    let err = CacheDir::open(&path).err().unwrap();
    assert!(err.to_string().contains("mode is 777"), "{err}");
  }

  #[test]
  fn refuses_a_symlinked_directory() {
    let root = tempfile::tempdir().unwrap();
    let real = root.path().join("real");
    fs::DirBuilder::new().mode(0o700).create(&real).unwrap();
    let link = root.path().join("cache");
    symlink(&real, &link).unwrap();
    let err = CacheDir::open(&link).err().unwrap();
    assert!(err.to_string().contains("symbolic link"), "{err}");
  }

  #[test]
  fn refuses_a_file_in_place_of_the_directory() {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("cache");
    fs::write(&path, b"").unwrap();
    let err = CacheDir::open(&path).err().unwrap();
    assert!(err.to_string().contains("not a directory"), "{err}");
  }

  #[test]
  fn parallel_writers_leave_one_complete_file() {
    let (_root, dir) = private_dir();
    let contents: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
    let dir = std::sync::Arc::new(dir);
    let threads: Vec<_> = (0..8)
      .map(|_| {
        let dir = dir.clone();
        let contents = contents.clone();
        std::thread::spawn(move || dir.store(&contents).unwrap())
      })
      .collect();
    let paths: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(paths.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(fs::read(&paths[0]).unwrap(), contents);
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
  }
}
