//! Starting `node` with the channel on fd 3, the requested stdio, environment, working directory
//! and arguments.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

/// The descriptor number the child runtime opens (`new net.Socket({ fd: 3 })`).
pub const CHANNEL_FD: i32 = 3;

/// What the child gets as stdin, stdout and stderr (`stdio` option).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StdioMode {
  /// The parent's own descriptors (duplicates: see [`spawn_child`]).
  Inherit,
  /// Pipes whose parent ends are returned in [`SpawnedChild`].
  Pipe,
  /// /dev/null for all three.
  Ignore,
}

pub struct SpawnRequest<'a> {
  pub program: &'a str,
  pub args: &'a [String],
  /// The child's end of the socketpair; placed at fd 3 in the child and closed in the parent
  /// when this request is dropped.
  pub channel: OwnedFd,
  /// The child's whole environment; `None` inherits the parent's.
  pub env: Option<&'a [(String, String)]>,
  /// The child's working directory; `None` keeps the parent's.
  pub cwd: Option<&'a str>,
  pub stdio: StdioMode,
}

impl<'a> SpawnRequest<'a> {
  /// A request with the parent's environment, working directory and stdio.
  pub fn new(program: &'a str, args: &'a [String], channel: OwnedFd) -> Self {
    SpawnRequest {
      program,
      args,
      channel,
      env: None,
      cwd: None,
      stdio: StdioMode::Inherit,
    }
  }
}

/// A started child: its pid and, with [`StdioMode::Pipe`], the parent's ends of its stdin,
/// stdout and stderr (close-on-exec, blocking; the caller decides).
pub struct SpawnedChild {
  pub pid: u32,
  pub stdin: Option<OwnedFd>,
  pub stdout: Option<OwnedFd>,
  pub stderr: Option<OwnedFd>,
}

/// Spawns the child.
///
/// stdin/stdout/stderr with [`StdioMode::Inherit`]: Node marks the parent's fds 0-2
/// close-on-exec, so `Stdio::inherit()` would hand the child closed descriptors. We pass
/// duplicates instead, which the standard library `dup2`s onto 0-2 in the child (clearing
/// close-on-exec). A parent fd that is closed becomes /dev/null in the child.
pub fn spawn_child(request: SpawnRequest<'_>) -> io::Result<SpawnedChild> {
  let mut command = Command::new(request.program);
  command.args(request.args);
  match request.stdio {
    StdioMode::Inherit => command
      .stdin(inherited(io::stdin().as_fd().try_clone_to_owned()))
      .stdout(inherited(io::stdout().as_fd().try_clone_to_owned()))
      .stderr(inherited(io::stderr().as_fd().try_clone_to_owned())),
    StdioMode::Pipe => command
      .stdin(Stdio::piped())
      .stdout(Stdio::piped())
      .stderr(Stdio::piped()),
    StdioMode::Ignore => command
      .stdin(Stdio::null())
      .stdout(Stdio::null())
      .stderr(Stdio::null()),
  };
  if let Some(env) = request.env {
    command.env_clear();
    command.envs(env.iter().map(|(k, v)| (k, v)));
  }
  if let Some(cwd) = request.cwd {
    command.current_dir(cwd);
  }

  let channel = request.channel.as_raw_fd();
  #[cfg(target_os = "linux")]
  // SAFETY: getpid has no preconditions.
  let parent_pid = unsafe { libc::getpid() };
  // SAFETY: the closure runs in the forked child before exec and only makes async-signal-safe
  // calls (fcntl, dup2, prctl, getppid); it allocates nothing (last_os_error reads errno).
  unsafe {
    command.pre_exec(move || {
      if channel == CHANNEL_FD {
        // dup2 onto itself is a no-op that would leave close-on-exec set: clear it instead.
        let flags = libc::fcntl(channel, libc::F_GETFD);
        if flags == -1 || libc::fcntl(channel, libc::F_SETFD, flags & !libc::FD_CLOEXEC) == -1 {
          return Err(io::Error::last_os_error());
        }
      } else if libc::dup2(channel, CHANNEL_FD) == -1 {
        return Err(io::Error::last_os_error());
      }
      #[cfg(target_os = "linux")]
      {
        // If the parent dies without closing the channel cleanly (SIGKILL), the kernel kills the
        // child too. It fires when the *thread* that forked exits: we always spawn on a JS thread,
        // which lives as long as its environment (the process, or a Worker that owns the Proclet).
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
          return Err(io::Error::last_os_error());
        }
        // The parent may have died before prctl took effect; then nobody would signal us.
        if libc::getppid() != parent_pid {
          return Err(io::Error::from_raw_os_error(libc::ESRCH));
        }
      }
      Ok(())
    });
  }
  let mut child = command.spawn()?;
  // The child's end stays open in the parent only until here: the parent must not hold it, or
  // it would never see end-of-file when the child exits.
  drop(request.channel);
  // Reaping is done by `ChildProcess::wait` on the pid; the pipes are handed over, so std's
  // handle owns nothing when it is dropped.
  Ok(SpawnedChild {
    pid: child.id(),
    stdin: child.stdin.take().map(OwnedFd::from),
    stdout: child.stdout.take().map(OwnedFd::from),
    stderr: child.stderr.take().map(OwnedFd::from),
  })
}

fn inherited(fd: io::Result<OwnedFd>) -> Stdio {
  fd.map(Stdio::from).unwrap_or_else(|_| Stdio::null())
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::process::ChildProcess;
  use std::io::Read;
  use std::os::unix::net::UnixStream;

  #[test]
  fn child_gets_the_channel_on_fd_3() {
    let (mut parent, child) = UnixStream::pair().unwrap();
    let args = vec!["-c".to_string(), "echo hello >&3".to_string()];
    let pid = spawn_child(SpawnRequest::new("sh", &args, child.into()))
      .unwrap()
      .pid;
    let mut out = String::new();
    parent.read_to_string(&mut out).unwrap();
    assert_eq!(out, "hello\n");
    assert_eq!(ChildProcess::new(pid).wait().code, Some(0));
  }

  #[test]
  fn parent_sees_eof_when_the_child_exits() {
    let (mut parent, child) = UnixStream::pair().unwrap();
    let args = vec!["-c".to_string(), "exit 0".to_string()];
    let pid = spawn_child(SpawnRequest::new("sh", &args, child.into()))
      .unwrap()
      .pid;
    let mut out = Vec::new();
    // Returns only if no copy of the child's end survives in the parent.
    parent.read_to_end(&mut out).unwrap();
    assert!(out.is_empty());
    ChildProcess::new(pid).wait();
  }

  #[test]
  fn missing_program_is_an_error() {
    let (_parent, child) = UnixStream::pair().unwrap();
    let err = spawn_child(SpawnRequest::new("/nonexistent/node", &[], child.into()))
      .err()
      .unwrap();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
  }

  #[test]
  fn env_cwd_and_pipes_reach_the_child() {
    let (_parent, child) = UnixStream::pair().unwrap();
    let args = vec![
      "-c".to_string(),
      "printf '%s|%s|%s' \"$ONLY\" \"$(pwd)\" \"$HOME\"; cat >&2".to_string(),
    ];
    let env = vec![("ONLY".to_string(), "this".to_string())];
    let mut request = SpawnRequest::new("/bin/sh", &args, child.into());
    request.env = Some(&env);
    request.cwd = Some("/tmp");
    request.stdio = StdioMode::Pipe;
    let spawned = spawn_child(request).unwrap();
    let mut stdin = std::fs::File::from(spawned.stdin.unwrap());
    std::io::Write::write_all(&mut stdin, b"to stderr").unwrap();
    drop(stdin);
    let mut out = String::new();
    std::fs::File::from(spawned.stdout.unwrap())
      .read_to_string(&mut out)
      .unwrap();
    let mut err = String::new();
    std::fs::File::from(spawned.stderr.unwrap())
      .read_to_string(&mut err)
      .unwrap();
    assert_eq!(out, "this|/tmp|");
    assert_eq!(err, "to stderr");
    assert_eq!(ChildProcess::new(spawned.pid).wait().code, Some(0));
  }
}
