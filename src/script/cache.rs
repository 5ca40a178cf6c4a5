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
//!
//! Cleanup: a file's modification time is its last use (`store` touches a file it reuses).
//! [`CacheDir::sweep_if_due`] removes files unused for [`MAX_UNUSED`], at most once per
//! [`SWEEP_INTERVAL`] per process and per directory. A process about to run a file holds a
//! [`CacheLease`] (a shared `flock` on `.lock`) from before `store` until the child has loaded
//! it; a sweep takes the lock exclusively and without waiting, so it never runs while anyone may
//! be about to start a script: it skips that turn instead.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

  /// Takes a shared lock that keeps sweeps away until the guard is dropped: hold it from before
  /// `store` until the child has loaded its script.
  pub fn lease(&self) -> Result<CacheLease, CacheError> {
    let path = self.path.join(LOCK_FILE);
    let file = lock_file(&path).map_err(|source| CacheError::Io {
      path: path.clone(),
      operation: "open the lock file",
      source,
    })?;
    flock(&file, libc::LOCK_SH).map_err(|source| CacheError::Io {
      path,
      operation: "lock",
      source,
    })?;
    Ok(CacheLease { _file: file })
  }

  /// Removes the scripts (and leftover temporary files) not used for `max_unused`, unless this
  /// process checked less than [`SWEEP_INTERVAL`] ago, the directory was swept that recently
  /// (the `.swept` marker), or a lease is held. Never fails: cleanup is best effort. Returns how
  /// many files were removed.
  pub fn sweep_if_due(&self, max_unused: Duration) -> usize {
    let now = unix_seconds(SystemTime::now());
    let interval = SWEEP_INTERVAL.as_secs();
    if NEXT_SWEEP_CHECK.fetch_max(now + interval, Ordering::Relaxed) > now {
      return 0;
    }
    let marker = self.path.join(SWEPT_MARKER);
    if let Ok(meta) = fs::symlink_metadata(&marker) {
      if meta.mtime() > 0 && (meta.mtime() as u64) + interval > now {
        return 0;
      }
    }
    self.sweep(max_unused)
  }

  /// The sweep itself, under an exclusive lock taken without waiting.
  fn sweep(&self, max_unused: Duration) -> usize {
    let Ok(lock) = lock_file(&self.path.join(LOCK_FILE)) else {
      return 0;
    };
    if flock(&lock, libc::LOCK_EX | libc::LOCK_NB).is_err() {
      return 0;
    }
    let Some(cutoff) = SystemTime::now().checked_sub(max_unused) else {
      return 0;
    };
    let mut removed = 0;
    if let Ok(entries) = fs::read_dir(&self.path) {
      for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(is_script_name(&name) || name.starts_with(".tmp-")) {
          continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        let old = meta.modified().is_ok_and(|m| m < cutoff);
        if meta.is_file() && meta.uid() == self.uid && old && fs::remove_file(entry.path()).is_ok()
        {
          removed += 1;
        }
      }
    }
    // Touched last: a sweep that could not lock is retried by the next process that checks.
    let _ = OpenOptions::new()
      .create(true)
      .truncate(false)
      .write(true)
      .mode(0o600)
      .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
      .open(self.path.join(SWEPT_MARKER))
      .and_then(|f| f.set_modified(SystemTime::now()));
    removed
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

  /// True if `path` is a regular file we own, not writable by others, with exactly `contents`;
  /// then it is touched, as used now.
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
    if !same_contents(&mut file, contents) {
      return false;
    }
    // Its last use, for the sweep (best effort: a file we cannot touch is still good to run).
    let _ = file.set_modified(SystemTime::now());
    true
  }
}

/// Files unused this long are removed by a sweep.
pub const MAX_UNUSED: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// A process checks whether a sweep is due at most this often; a directory is swept at most
/// this often.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);
const LOCK_FILE: &str = ".lock";
const SWEPT_MARKER: &str = ".swept";

/// When this process may next check for a due sweep (Unix seconds).
static NEXT_SWEEP_CHECK: AtomicU64 = AtomicU64::new(0);

/// Keeps sweeps from removing scripts while held (a shared `flock`, released on drop).
pub struct CacheLease {
  _file: File,
}

fn lock_file(path: &Path) -> io::Result<File> {
  OpenOptions::new()
    .create(true)
    .truncate(false)
    .read(true)
    .write(true)
    .mode(0o600)
    .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
    .open(path)
}

fn flock(file: &File, operation: i32) -> io::Result<()> {
  loop {
    // SAFETY: a valid open descriptor owned by `file`.
    if unsafe { libc::flock(file.as_raw_fd(), operation) } == 0 {
      return Ok(());
    }
    let err = io::Error::last_os_error();
    if err.kind() != io::ErrorKind::Interrupted {
      return Err(err);
    }
  }
}

/// `<128 hex digits>.cjs`, as [`file_name`] makes them.
fn is_script_name(name: &str) -> bool {
  name.len() == 132 && name.ends_with(".cjs") && name[..128].bytes().all(|b| b.is_ascii_hexdigit())
}

fn unix_seconds(time: SystemTime) -> u64 {
  time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
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

  fn age(path: &Path, days: u64) {
    let file = File::options().write(true).open(path).unwrap();
    let then = SystemTime::now() - Duration::from_secs(days * 24 * 60 * 60);
    file.set_modified(then).unwrap();
  }

  #[test]
  fn a_sweep_removes_scripts_unused_for_a_week_and_keeps_the_rest() {
    let (_root, dir) = private_dir();
    let old = dir.store(b"old();").unwrap();
    let recent = dir.store(b"recent();").unwrap();
    let other = dir.path().join("not-ours.txt");
    fs::write(&other, b"x").unwrap();
    age(&old, 8);
    age(&recent, 6);
    age(&other, 30);
    assert_eq!(dir.sweep(MAX_UNUSED), 1);
    assert!(!old.exists());
    assert!(recent.exists());
    assert!(other.exists(), "only proclet's own file names are swept");
  }

  #[test]
  fn reusing_a_script_counts_as_using_it() {
    let (_root, dir) = private_dir();
    let path = dir.store(b"reused();").unwrap();
    age(&path, 8);
    dir.store(b"reused();").unwrap();
    assert_eq!(dir.sweep(MAX_UNUSED), 0);
    assert!(path.exists());
  }

  #[test]
  fn no_sweep_while_a_process_is_about_to_run_a_script() {
    let (_root, dir) = private_dir();
    let path = dir.store(b"starting();").unwrap();
    age(&path, 8);
    let lease = dir.lease().unwrap();
    assert_eq!(dir.sweep(MAX_UNUSED), 0);
    assert!(path.exists());
    drop(lease);
    assert_eq!(dir.sweep(MAX_UNUSED), 1);
  }

  #[test]
  fn a_directory_swept_today_is_not_swept_again() {
    let (_root, dir) = private_dir();
    dir.sweep(MAX_UNUSED);
    let path = dir.store(b"later();").unwrap();
    age(&path, 8);
    // The marker says the directory was swept now; the per-process check is reset for the test.
    NEXT_SWEEP_CHECK.store(0, Ordering::Relaxed);
    assert_eq!(dir.sweep_if_due(MAX_UNUSED), 0);
    assert!(path.exists());
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
