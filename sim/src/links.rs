//! The shared link store's real engine for tests: Debian's PostgreSQL, started in a
//! private directory with TLS and client-certificate login, the schema of
//! `deploy/links/schema.sql` loaded, devices added as roles with certificates from the
//! simulator's PKI ([`crate::platform::PlatformPki`]). Stopped and removed on drop.
//!
//! PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user the
//! Debian package creates (`setpriv`, so the child is the server itself).

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::platform::pki::{PlatformPki, TlsIdentity};

/// The database the schema is loaded into.
pub const DATABASE: &str = "kiosk_links";

/// A running PostgreSQL holding the link store.
#[derive(Debug)]
pub struct LinkServer {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    child: Option<Child>,
    /// uid and gid the server runs as (the `postgres` user when this process is root).
    owner: Option<(u32, u32)>,
}

fn other(what: impl Into<String>) -> io::Error {
    io::Error::other(what.into())
}

/// The newest PostgreSQL server binaries Debian installed.
fn server_bin() -> io::Result<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")?
        .filter_map(Result::ok)
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin): &(u32, PathBuf)| bin.join("postgres").exists())
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| other("no PostgreSQL server in /usr/lib/postgresql"))
}

fn postgres_ids() -> io::Result<(u32, u32)> {
    let passwd = fs::read_to_string("/etc/passwd")?;
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&"postgres"))
                .then(|| Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?)))?
        })
        .ok_or_else(|| other("no postgres user (the postgresql package makes it)"))
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status").is_ok_and(|s| {
        s.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|ids| ids.split_whitespace().nth(1))
            == Some("0")
    })
}

fn free_port() -> io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl LinkServer {
    /// Creates a cluster in a new directory named after `name`, starts it on a free port
    /// of 127.0.0.1 with TLS (the PKI's server certificate, its CA for clients), and
    /// loads the schema.
    pub fn start(name: &str) -> io::Result<LinkServer> {
        let pki = PlatformPki::shared().map_err(|e| other(e.to_string()))?;
        let dir = std::env::temp_dir().join(format!("kiosk-links-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir)?;
        let owner = if is_root() { Some(postgres_ids()?) } else { None };
        let mut server = LinkServer { dir, bin: server_bin()?, port: free_port()?, child: None, owner };
        server.own(&server.dir)?;
        let data = server.data();
        server.run_as_owner(
            Command::new(server.bin.join("initdb"))
                .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "-D"])
                .arg(&data),
        )?;
        let write = |file: &str, content: &str, mode: u32| -> io::Result<()> {
            let path = data.join(file);
            fs::write(&path, content)?;
            fs::set_permissions(&path, fs::Permissions::from_mode(mode))?;
            server.own(&path)
        };
        write("server.pem", &pki.server.chain_pem, 0o644)?;
        write("server.key", &pki.server.key_pem, 0o600)?;
        write("clients-ca.pem", &pki.ca_pem, 0o644)?;
        write(
            "pg_hba.conf",
            &format!("local all postgres trust\nhostssl {DATABASE} all 127.0.0.1/32 cert\n"),
            0o600,
        )?;
        server.resume()?;
        server.psql("postgres", &format!("CREATE DATABASE {DATABASE}"))?;
        let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/links/schema.sql");
        server.psql(DATABASE, &fs::read_to_string(schema)?)?;
        Ok(server)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn own(&self, path: &Path) -> io::Result<()> {
        match self.owner {
            Some((uid, gid)) => std::os::unix::fs::chown(path, Some(uid), Some(gid)),
            None => Ok(()),
        }
    }

    fn as_owner(&self, program: &Path) -> Command {
        match self.owner {
            Some((uid, gid)) => {
                let mut c = Command::new("setpriv");
                c.arg(format!("--reuid={uid}"))
                    .arg(format!("--regid={gid}"))
                    .arg("--clear-groups")
                    .arg("--")
                    .arg(program);
                c
            }
            None => Command::new(program),
        }
    }

    fn run_as_owner(&self, cmd: &mut Command) -> io::Result<String> {
        let program = PathBuf::from(cmd.get_program());
        let mut real = self.as_owner(&program);
        real.args(cmd.get_args()).current_dir(&self.dir);
        let out = real.stdin(Stdio::null()).output()?;
        if !out.status.success() {
            return Err(other(format!(
                "{} failed: {}{}",
                program.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs `sql` as the superuser over the server's private socket; its output.
    pub fn psql(&self, database: &str, sql: &str) -> io::Result<String> {
        self.run_as_owner(
            Command::new("/usr/bin/psql")
                .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h"])
                .arg(&self.dir)
                .args(["-p", &self.port.to_string(), "-U", "postgres", "-d", database, "-c", sql]),
        )
    }

    /// Starts the server (again, after [`LinkServer::stop`]) and waits until it takes
    /// connections.
    pub fn resume(&mut self) -> io::Result<()> {
        let data = self.data();
        let log = fs::OpenOptions::new().create(true).append(true).open(self.dir.join("server.log"))?;
        let mut cmd = self.as_owner(&self.bin.join("postgres"));
        cmd.arg("-D").arg(&data).args(["-p", &self.port.to_string(), "-k"]).arg(&self.dir);
        for setting in [
            "listen_addresses=127.0.0.1".to_owned(),
            "ssl=on".to_owned(),
            format!("ssl_cert_file={}", data.join("server.pem").display()),
            format!("ssl_key_file={}", data.join("server.key").display()),
            format!("ssl_ca_file={}", data.join("clients-ca.pem").display()),
            "ssl_min_protocol_version=TLSv1.2".to_owned(),
            // A test cluster: nothing to keep after a crash.
            "fsync=off".to_owned(),
            "full_page_writes=off".to_owned(),
            "shared_buffers=16MB".to_owned(),
        ] {
            cmd.arg("-c").arg(setting);
        }
        self.child = Some(cmd.stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log).spawn()?);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = Command::new("pg_isready")
                .arg("-q")
                .arg("-h")
                .arg(&self.dir)
                .args(["-p", &self.port.to_string()])
                .status()?;
            if ready.success() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(other(format!("PostgreSQL did not start; its log:\n{}", self.log())));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the server (fast shutdown: connections are cut) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
            let _ = child.wait();
        }
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    /// The URL a device with `role` connects to.
    pub fn url(&self, role: &str) -> String {
        format!("postgresql://{role}@127.0.0.1:{}/{DATABASE}", self.port)
    }

    /// Runs `sql` as a device: `psql` over TLS, logged in by `identity` as `role` (the
    /// server's certificate checked against the CA and the address). Its output, or what
    /// the server refused.
    pub fn psql_as(&self, role: &str, identity: &TlsIdentity, sql: &str) -> io::Result<String> {
        let dir = self.dir.join(format!("client-{role}"));
        fs::create_dir_all(&dir)?;
        for (file, content) in [
            ("ca.pem", self.ca_pem()?),
            ("client.pem", identity.chain_pem.clone()),
            ("client.key", identity.key_pem.clone()),
        ] {
            fs::write(dir.join(file), content)?;
            fs::set_permissions(dir.join(file), fs::Permissions::from_mode(0o600))?;
        }
        let conninfo = format!(
            "host=127.0.0.1 port={} dbname={DATABASE} user={role} sslmode=verify-full sslrootcert={} sslcert={} sslkey={}",
            self.port,
            dir.join("ca.pem").display(),
            dir.join("client.pem").display(),
            dir.join("client.key").display()
        );
        let out = Command::new("/usr/bin/psql")
            .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", &conninfo, "-c", sql])
            .stdin(Stdio::null())
            .output()?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(other(String::from_utf8_lossy(&out.stderr).into_owned()))
        }
    }

    /// The CA (PEM) the server's certificate chains to.
    pub fn ca_pem(&self) -> io::Result<String> {
        Ok(PlatformPki::shared().map_err(|e| other(e.to_string()))?.ca_pem.clone())
    }

    /// Adds a device: a login role named `role`, listed for `municipality` (and allowed
    /// to link when `may_link`), and its client certificate (common name `role`).
    pub fn add_device(&self, role: &str, municipality: &str, may_link: bool) -> io::Result<TlsIdentity> {
        let ok =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !ok(role) || !ok(municipality) {
            return Err(other("role and municipality: letters, digits, - and _ only"));
        }
        self.psql(
            DATABASE,
            &format!(
                "CREATE ROLE \"{role}\" LOGIN IN ROLE kiosk_devices; \
                 INSERT INTO link_devices (role, municipality, may_link) VALUES ('{role}', '{municipality}', {may_link})"
            ),
        )?;
        PlatformPki::shared()
            .map_err(|e| other(e.to_string()))?
            .client(role)
            .map_err(|e| other(e.to_string()))
    }
}

impl Drop for LinkServer {
    fn drop(&mut self) {
        self.stop();
        let _ = fs::remove_dir_all(&self.dir);
    }
}
