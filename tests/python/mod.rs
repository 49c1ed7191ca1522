//! Python's `websockets`, `wsproto`, and `h2` for HTTP/2 (pinned in
//! `tests/python/requirements.txt`) as independent peers: a virtual
//! environment under the target directory,
//! made on first use, and the scripts beside this file.
//!
//! When Python or the package cannot be had, the tests that need them are
//! skipped with a message, except under CI (`CI=true`), where that fails.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// This directory: the scripts and the requirements.
fn here() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python")
}

/// The virtual environment's Python, with the pinned `websockets`; `None`
/// (outside CI) when it cannot be made.
pub fn python() -> Option<&'static Path> {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PYTHON.get_or_init(make_venv) {
        Ok(python) => Some(python),
        Err(why) if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
            panic!("Python `websockets` is required under CI: {why}")
        }
        Err(why) => {
            eprintln!("skipping: Python `websockets` is not available: {why}");
            None
        }
    }
}

/// Makes (or reuses) `target/python-websockets`, a venv with the pinned
/// requirements.
fn make_venv() -> Result<PathBuf, String> {
    // The test binary is target/<profile>/deps/<name>: the venv sits in
    // target/, whatever CARGO_TARGET_DIR says.
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let target = exe
        .ancestors()
        .nth(3)
        .ok_or("no target directory above the test binary")?;
    let venv = target.join("python-websockets");
    let python = venv.join("bin/python");
    let requirements = here().join("requirements.txt");
    let stamp = venv.join("requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).map_err(|e| e.to_string())?;
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) && python.exists() {
        return Ok(python);
    }
    let python3 = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    run(Command::new(&python3).args(["-m", "venv"]).arg(&venv))?;
    run(Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "-r"])
        .arg(&requirements))?;
    run(Command::new(&python).args(["-c", "import websockets, wsproto, h2"]))?;
    std::fs::write(&stamp, wanted).map_err(|e| e.to_string())?;
    Ok(python)
}

fn run(command: &mut Command) -> Result<(), String> {
    let output = command.output().map_err(|e| format!("{command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// Runs a script beside this file to its end (within `timeout`); its
/// standard output, or why it failed.
pub async fn run_script(
    python: &Path,
    script: &str,
    args: &[&str],
    timeout: std::time::Duration,
) -> Result<String, String> {
    let child = tokio::process::Command::new(python)
        .arg(here().join(script))
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(timeout, child)
        .await
        .map_err(|_| format!("{script} timed out"))?
        .map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "{script} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// A script left running: killed when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a server script that prints its port on its first line; the
/// child (killed on drop) and the port.
pub fn spawn_server(python: &Path, script: &str, args: &[&str]) -> (Running, u16) {
    use std::io::BufRead;
    let mut child = Command::new(python)
        .arg(here().join(script))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the Python server");
    let stdout = child.stdout.take().expect("piped stdout");
    let running = Running(child);
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the port");
    let port = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{script} printed {line:?}, not a port"));
    (running, port)
}
