//! A spawned child's pid, with kill and reap that cannot hit a recycled pid.
//!
//! The waiting thread first waits with `WNOWAIT` (the child stays a zombie, so its pid cannot be
//! reused), then marks the child exited under the lock and only then reaps it. `kill` takes the
//! same lock and refuses once the child is marked exited, so a signal never reaches another
//! process that was given the same pid.

use std::io;
use std::sync::Mutex;

/// How the child ended: exactly one of `code` and `signal` is set, unless the status could not be
/// read (someone else reaped the child), in which case both are `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitStatus {
  pub code: Option<i32>,
  pub signal: Option<i32>,
}

pub struct ChildProcess {
  pid: libc::pid_t,
  exited: Mutex<bool>,
}

impl ChildProcess {
  pub fn new(pid: u32) -> Self {
    ChildProcess {
      pid: pid as libc::pid_t,
      exited: Mutex::new(false),
    }
  }

  pub fn pid(&self) -> u32 {
    self.pid as u32
  }

  /// Sends `signal`. `Ok(false)` if the child has already exited.
  pub fn kill(&self, signal: i32) -> io::Result<bool> {
    let exited = self.exited.lock().unwrap_or_else(|e| e.into_inner());
    if *exited {
      return Ok(false);
    }
    // SAFETY: plain syscall; the pid is still ours (not reaped) while `exited` is false and held.
    if unsafe { libc::kill(self.pid, signal) } == 0 {
      Ok(true)
    } else {
      let err = io::Error::last_os_error();
      if err.raw_os_error() == Some(libc::ESRCH) {
        Ok(false)
      } else {
        Err(err)
      }
    }
  }

  /// Blocks until the child exits, then reaps it. Call from one thread only.
  pub fn wait(&self) -> ExitStatus {
    loop {
      // SAFETY: siginfo_t is plain data; waitid fills it in.
      let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
      // SAFETY: valid pointer to a siginfo_t; P_PID with our own child's pid.
      let rc = unsafe {
        libc::waitid(
          libc::P_PID,
          self.pid as libc::id_t,
          &mut info,
          libc::WEXITED | libc::WNOWAIT,
        )
      };
      if rc == -1 {
        if io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
          continue;
        }
        // ECHILD: reaped by someone else; the status is gone.
        *self.exited.lock().unwrap_or_else(|e| e.into_inner()) = true;
        return ExitStatus {
          code: None,
          signal: None,
        };
      }
      break;
    }
    let mut exited = self.exited.lock().unwrap_or_else(|e| e.into_inner());
    *exited = true;
    let mut status = 0;
    loop {
      // SAFETY: valid pointer to an int; the child is a zombie now, so this does not block.
      let rc = unsafe { libc::waitpid(self.pid, &mut status, 0) };
      if rc == -1 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
        continue;
      }
      if rc == -1 {
        return ExitStatus {
          code: None,
          signal: None,
        };
      }
      break;
    }
    drop(exited);
    if libc::WIFEXITED(status) {
      ExitStatus {
        code: Some(libc::WEXITSTATUS(status)),
        signal: None,
      }
    } else if libc::WIFSIGNALED(status) {
      ExitStatus {
        code: None,
        signal: Some(libc::WTERMSIG(status)),
      }
    } else {
      ExitStatus {
        code: None,
        signal: None,
      }
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::process::Command;

  /// Spawns with std and hands the pid to `ChildProcess`, which reaps it (std's handle never
  /// waits, so clippy's zombie check does not see it).
  fn spawn(program: &str, args: &[&str]) -> ChildProcess {
    #[allow(clippy::zombie_processes)]
    let child = Command::new(program).args(args).spawn().unwrap();
    ChildProcess::new(child.id())
  }

  #[test]
  fn reports_exit_code() {
    let process = spawn("sh", &["-c", "exit 7"]);
    assert_eq!(
      process.wait(),
      ExitStatus {
        code: Some(7),
        signal: None
      }
    );
    // Reaped: a signal now would go nowhere (and never to a recycled pid).
    assert!(!process.kill(libc::SIGTERM).unwrap());
  }

  #[test]
  fn kill_delivers_a_signal_and_is_refused_after_exit() {
    let process = spawn("sleep", &["30"]);
    assert!(process.kill(libc::SIGTERM).unwrap());
    assert_eq!(
      process.wait(),
      ExitStatus {
        code: None,
        signal: Some(libc::SIGTERM)
      }
    );
    assert!(!process.kill(libc::SIGTERM).unwrap());
  }
}
