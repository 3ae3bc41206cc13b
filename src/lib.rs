//! Support for the end-to-end tests in `tests/` and the benchmarks in `benches/`: finding the
//! built plugin libraries and the `strategy-host` binary from the running executable (never a
//! hard-coded `target/debug`, so any profile and any `CARGO_TARGET_DIR` work).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Directories where cargo leaves this build's artifacts, nearest first: the test executable's
/// own directory (`target/<profile>/deps`) and its parent (`target/<profile>`).
pub fn artifact_dirs() -> Vec<PathBuf> {
    let exe = std::env::current_exe().expect("current_exe");
    let mut dirs = Vec::new();
    if let Some(dir) = exe.parent() {
        dirs.push(dir.to_path_buf());
        if let Some(parent) = dir.parent() {
            dirs.push(parent.to_path_buf());
        }
    }
    dirs
}

/// The built library of plugin crate `name` (e.g. `fx-echo`).
pub fn plugin_path(name: &str) -> PathBuf {
    let file = format!(
        "{}{}{}",
        std::env::consts::DLL_PREFIX,
        name.replace('-', "_"),
        std::env::consts::DLL_SUFFIX
    );
    artifact_dirs()
        .into_iter()
        .map(|d| d.join(&file))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{file} not built: is `{name}` a dev-dependency of the root package?")
        })
}

/// The `strategy-host` binary of this build, building it (with the same profile) if it is not
/// there yet, e.g. when only this package's tests were asked for.
pub fn host_binary() -> PathBuf {
    let name = format!("strategy-host{}", std::env::consts::EXE_SUFFIX);
    let dirs = artifact_dirs();
    if let Some(found) = dirs.iter().map(|d| d.join(&name)).find(|p| p.is_file()) {
        return found;
    }
    // target/<profile>/deps → target/<profile> → its name is the profile dir ("debug"/"release").
    let profile_dir = dirs.last().expect("artifact dir").clone();
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev".to_string(),
        Some(other) => other.to_string(),
        None => "dev".to_string(),
    };
    let status = Command::new(env!("CARGO"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "build",
            "-p",
            "strategy-host",
            "--bin",
            "strategy-host",
            "--profile",
            &profile,
        ])
        .status()
        .expect("run cargo build for strategy-host");
    assert!(status.success(), "building strategy-host failed");
    let built = profile_dir.join(&name);
    assert!(built.is_file(), "{} missing after build", built.display());
    built
}

/// A fresh scratch directory for one test under `base` (pass `env!("CARGO_TARGET_TMPDIR")`).
pub fn scratch_dir(base: &str, test: &str) -> PathBuf {
    let dir = Path::new(base).join(format!("e2e-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write file");
    p
}

/// Small helpers shared by the benchmarks: a counting allocator and percentile summaries.
pub mod bench {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A global allocator that counts allocations (declare it `#[global_allocator]` in a bench).
    pub struct CountingAlloc;

    static ALLOCS: AtomicU64 = AtomicU64::new(0);

    // SAFETY: defers every operation to `System`, only counting calls.
    unsafe impl GlobalAlloc for CountingAlloc {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            // SAFETY: same contract as the caller's.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: same contract as the caller's.
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
            // SAFETY: same contract as the caller's.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    /// Allocations counted so far by `CountingAlloc` in this binary.
    pub fn allocations() -> u64 {
        ALLOCS.load(Ordering::Relaxed)
    }

    /// The value at quantile `q` (0..=1) of `sorted`.
    pub fn quantile(sorted: &[f64], q: f64) -> f64 {
        if sorted.is_empty() {
            return f64::NAN;
        }
        let i = ((sorted.len() - 1) as f64 * q).round() as usize;
        sorted[i]
    }

    /// p50 / p99 / max of `samples` (sorted in place).
    pub fn summary(samples: &mut [f64]) -> (f64, f64, f64) {
        samples.sort_by(|a, b| a.total_cmp(b));
        (
            quantile(samples, 0.5),
            quantile(samples, 0.99),
            *samples.last().unwrap_or(&f64::NAN),
        )
    }

    /// A one-line description of the machine for benchmark reports.
    pub fn machine() -> String {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|c| {
                c.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(|s| s.trim().to_string())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        format!("{cpu}, {cores} cores, {}", std::env::consts::ARCH)
    }
}
