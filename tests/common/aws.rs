//! Local stand-ins for AWS: moto's S3 server (a real S3-compatible server, started per test on a
//! free port), a fault-injecting HTTP proxy in front of it, and a small MediaConvert stand-in
//! that records the requests it gets and answers GetJob from a script.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Static test credentials and a region, for the SDK and for `vodkit` processes.
pub const ENV: [(&str, &str); 6] = [
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_REGION", "us-east-1"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
    ("AWS_CONFIG_FILE", "/nonexistent/vodkit-tests"),
    ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/vodkit-tests"),
];

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// moto's S3 server, stopped when dropped.
pub struct Moto {
    child: Child,
    pub port: u16,
}

impl Moto {
    pub fn start() -> Self {
        let server = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pyenv/bin/moto_server");
        assert!(
            server.exists(),
            "moto_server is missing: run `make test-deps` (a venv with moto[server])"
        );
        let port = free_port();
        let child = Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let moto = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An S3 client on moto with the test credentials.
pub async fn s3_client(endpoint: &str) -> aws_sdk_s3::Client {
    let sdk = sdk_config().await;
    let conf = aws_sdk_s3::config::Builder::from(&sdk)
        .endpoint_url(endpoint)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// SDK configuration with static test credentials (no environment, no profile files).
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "tests",
        ))
        .region(aws_config::Region::new("us-east-1"))
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(vodkit::cloud::clients::MAX_ATTEMPTS),
        )
        .load()
        .await
}

/// One HTTP/1.1 request as read off a socket.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub head: String,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }
}

/// Reads one request (head and a Content-Length body).
pub fn read_request(stream: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line).ok()? == 0 {
            return None;
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let first = head.lines().next()?.to_owned();
    let mut parts = first.split(' ');
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut req = Request {
        method,
        target,
        head,
        body: Vec::new(),
    };
    assert!(
        req.header("transfer-encoding").is_none(),
        "the test servers only read Content-Length bodies"
    );
    let len: usize = req
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    stream.read_exact(&mut body).ok()?;
    req.body = body;
    Some(req)
}

/// What the proxy does to UploadPart requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer the first N with 503 SlowDown, then pass everything.
    SlowDown(usize),
    /// Pass the first N, then hold every later one without an answer (a dead connection).
    StallAfter(usize),
    /// Hold every PUT (an object or a part) until [`FaultProxy::heal`], then pass it.
    HoldUntilHealed,
}

/// An HTTP proxy in front of moto that injects faults into UploadPart requests. One request
/// per connection (it answers `Connection: close`), so it sees every request.
pub struct FaultProxy {
    pub port: u16,
    /// UploadPart requests answered with an injected error.
    pub injected: Arc<AtomicUsize>,
    /// UploadPart requests passed to moto and answered.
    pub passed: Arc<AtomicUsize>,
    /// UploadPart requests held.
    pub stalled: Arc<AtomicUsize>,
    /// Once set, every request passes.
    healed: Arc<std::sync::atomic::AtomicBool>,
    /// Once set, ListParts is answered 501 NotImplemented (a store that cannot list parts).
    no_list_parts: Arc<std::sync::atomic::AtomicBool>,
    fault: Arc<Mutex<Fault>>,
    seen: Arc<AtomicUsize>,
}

impl FaultProxy {
    pub fn start(upstream_port: u16, first_fault: Fault) -> Self {
        let fault = Arc::new(Mutex::new(first_fault));
        let faults = Arc::clone(&fault);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let injected = Arc::new(AtomicUsize::new(0));
        let passed = Arc::new(AtomicUsize::new(0));
        let stalled = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&seen);
        let healed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let h = Arc::clone(&healed);
        let no_list_parts = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let refuse = Arc::clone(&no_list_parts);
        let (i, p, s) = (
            Arc::clone(&injected),
            Arc::clone(&passed),
            Arc::clone(&stalled),
        );
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (i, p, s, seen, h, refuse) = (
                    Arc::clone(&i),
                    Arc::clone(&p),
                    Arc::clone(&s),
                    Arc::clone(&counter),
                    Arc::clone(&h),
                    Arc::clone(&refuse),
                );
                let fault = *faults.lock().expect("lock");
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
                    let Some(req) = read_request(&mut reader) else {
                        return;
                    };
                    let mut conn = conn;
                    let is_part = req.method == "PUT" && req.target.contains("partNumber=");
                    if req.method == "PUT" && matches!(fault, Fault::HoldUntilHealed) {
                        s.fetch_add(1, Ordering::SeqCst);
                        while !h.load(Ordering::SeqCst) {
                            std::thread::sleep(Duration::from_millis(10));
                        }
                    }
                    if is_part && !h.load(Ordering::SeqCst) {
                        let n = seen.fetch_add(1, Ordering::SeqCst);
                        match fault {
                            Fault::SlowDown(k) if n < k => {
                                i.fetch_add(1, Ordering::SeqCst);
                                let (status, code, message) = (
                                    "503 Slow Down",
                                    "SlowDown",
                                    "Please reduce your request rate.",
                                );
                                let body = format!(
                                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
                                );
                                let _ = write!(
                                    conn,
                                    "HTTP/1.1 {status}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                                    body.len()
                                );
                                return;
                            }
                            Fault::StallAfter(k) if n >= k => {
                                s.fetch_add(1, Ordering::SeqCst);
                                std::thread::sleep(Duration::from_secs(600));
                                return;
                            }
                            _ => {}
                        }
                    }
                    let lists_parts = req.method == "GET" && req.target.contains("uploadId=");
                    if lists_parts && refuse.load(Ordering::SeqCst) {
                        let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NotImplemented</Code><Message>ListParts is not implemented</Message></Error>";
                        let _ = write!(
                            conn,
                            "HTTP/1.1 501 Not Implemented\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        return;
                    }
                    let mut answer = forward(upstream_port, &req);
                    if lists_parts {
                        answer = as_s3_lists_parts(&answer);
                    }
                    let _ = conn.write_all(&answer);
                    let _ = conn.flush();
                    if is_part {
                        p.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        });
        Self {
            port,
            injected,
            passed,
            stalled,
            healed,
            no_list_parts,
            fault,
            seen,
        }
    }

    /// From now on, answer ListParts as a store that cannot list parts.
    pub fn refuse_list_parts(&self) {
        self.no_list_parts.store(true, Ordering::SeqCst);
    }

    /// Injects another fault from now on, counting UploadPart requests afresh.
    pub fn set_fault(&self, fault: Fault) {
        *self.fault.lock().expect("lock") = fault;
        self.seen.store(0, Ordering::SeqCst);
        self.healed.store(false, Ordering::SeqCst);
    }

    /// From now on, pass every request.
    pub fn heal(&self) {
        self.healed.store(true, Ordering::SeqCst);
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// moto answers ListParts with the root element `ListPartsResponse`; S3 (and the SDK, which
/// refuses anything else) use `ListPartsResult`. The proxy plays S3's answer.
fn as_s3_lists_parts(answer: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(answer);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return answer.to_vec();
    };
    let body = body
        .replace("<ListPartsResponse", "<ListPartsResult")
        .replace("</ListPartsResponse>", "</ListPartsResult>");
    let head: Vec<String> = head
        .lines()
        .map(|l| {
            if l.to_ascii_lowercase().starts_with("content-length:") {
                format!("Content-Length: {}", body.len())
            } else {
                l.to_owned()
            }
        })
        .collect();
    format!("{}\r\n\r\n{body}", head.join("\r\n")).into_bytes()
}

/// Sends a request to 127.0.0.1:port on a fresh connection and returns the whole answer.
fn forward(port: u16, req: &Request) -> Vec<u8> {
    let mut up = TcpStream::connect(("127.0.0.1", port)).expect("connect upstream");
    let mut head: Vec<String> = req
        .head
        .trim_end()
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(str::to_owned)
        .collect();
    head.push("Connection: close".to_owned());
    let _ = up.write_all(format!("{}\r\n\r\n", head.join("\r\n")).as_bytes());
    let _ = up.write_all(&req.body);
    let mut answer = Vec::new();
    let _ = up.read_to_end(&mut answer);
    // Tell the client to open a new connection for its next request.
    if let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&answer[..end]).into_owned();
        let kept: Vec<&str> = head
            .lines()
            .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
            .collect();
        let mut out = format!("{}\r\nConnection: close\r\n\r\n", kept.join("\r\n")).into_bytes();
        out.extend_from_slice(&answer[end + 4..]);
        return out;
    }
    answer
}

/// One GetJob answer of the script: status, percent, phase, and for ERROR a code and message.
#[derive(Debug, Clone)]
pub struct Step {
    pub status: &'static str,
    pub percent: u32,
    pub phase: Option<&'static str>,
    pub error: Option<(i32, &'static str)>,
}

pub fn step(status: &'static str, percent: u32, phase: Option<&'static str>) -> Step {
    Step {
        status,
        percent,
        phase,
        error: None,
    }
}

#[derive(Default)]
struct McState {
    requests: Vec<Request>,
    jobs: Vec<Value>,
    script: VecDeque<Step>,
    cancelled: bool,
    templates: Vec<Value>,
}

/// A MediaConvert stand-in: records requests; CreateJob answers with a job echoing the
/// request's settings; GetJob walks the script (repeating its last step); CancelJob marks the
/// job cancelled; ListJobs and ListQueues answer from what it has; job templates are created,
/// updated, listed and read.
pub struct FakeMediaConvert {
    pub port: u16,
    state: Arc<Mutex<McState>>,
}

impl FakeMediaConvert {
    pub fn start(script: Vec<Step>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let state = Arc::new(Mutex::new(McState {
            script: script.into(),
            ..McState::default()
        }));
        let st = Arc::clone(&state);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let st = Arc::clone(&st);
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(conn.try_clone().expect("clone"));
                    let mut conn = conn;
                    while let Some(req) = read_request(&mut reader) {
                        let (status, body) = answer(&st, &req);
                        let text = body.to_string();
                        let _ = write!(
                            conn,
                            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nx-amzn-RequestId: test\r\n\r\n{text}",
                            text.len()
                        );
                        let _ = conn.flush();
                    }
                });
            }
        });
        Self { port, state }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().expect("lock").requests.clone()
    }

    pub fn cancelled(&self) -> bool {
        self.state.lock().expect("lock").cancelled
    }
}

fn job_with(job: &Value, step: &Step, cancelled: bool) -> Value {
    let mut job = job.clone();
    if cancelled {
        job["status"] = json!("CANCELED");
        return job;
    }
    job["status"] = json!(step.status);
    job["jobPercentComplete"] = json!(step.percent);
    if let Some(p) = step.phase {
        job["currentPhase"] = json!(p);
    }
    if let Some((code, message)) = step.error {
        job["errorCode"] = json!(code);
        job["errorMessage"] = json!(message);
    }
    job
}

fn answer(state: &Mutex<McState>, req: &Request) -> (u16, Value) {
    let mut st = state.lock().expect("lock");
    st.requests.push(req.clone());
    let path = req.target.split('?').next().unwrap_or("").to_owned();
    match (req.method.as_str(), path.as_str()) {
        ("POST", "/2017-08-29/jobs") => {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            let id = format!("1764403200000-test{:02}", st.jobs.len() + 1);
            let job = json!({
                "id": id,
                "arn": format!("arn:aws:mediaconvert:us-east-1:123456789012:jobs/{id}"),
                "role": body["role"],
                "settings": body["settings"],
                "userMetadata": body["userMetadata"],
                "status": "SUBMITTED",
                "createdAt": 1_764_403_200,
            });
            st.jobs.push(job.clone());
            (201, json!({ "job": job }))
        }
        ("GET", "/2017-08-29/jobs") => {
            let cancelled = st.cancelled;
            let last = st.script.back().cloned();
            let jobs: Vec<Value> = st
                .jobs
                .iter()
                .rev()
                .map(|j| match &last {
                    Some(s) => job_with(j, s, cancelled),
                    None => j.clone(),
                })
                .collect();
            (200, json!({ "jobs": jobs }))
        }
        ("GET", "/2017-08-29/queues") => (200, json!({ "queues": [] })),
        ("GET", p) if p.starts_with("/2017-08-29/jobs/") => {
            let id = p.trim_start_matches("/2017-08-29/jobs/");
            let Some(job) = st.jobs.iter().find(|j| j["id"] == id).cloned() else {
                return (404, json!({ "message": format!("job {id} not found") }));
            };
            let step = if st.script.len() > 1 {
                st.script.pop_front()
            } else {
                st.script.front().cloned()
            };
            let cancelled = st.cancelled;
            let job = match step {
                Some(s) => job_with(&job, &s, cancelled),
                None => job,
            };
            (200, json!({ "job": job }))
        }
        ("DELETE", p) if p.starts_with("/2017-08-29/jobs/") => {
            st.cancelled = true;
            (202, json!({}))
        }
        // Job templates: created once per name (409 ConflictException after), updated by
        // name, listed with what they were given.
        ("POST", "/2017-08-29/jobTemplates") => {
            let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            if st.templates.iter().any(|t| t["name"] == body["name"]) {
                return (
                    409,
                    json!({ "__type": "ConflictException", "message": "A job template with this name already exists." }),
                );
            }
            st.templates.push(body.clone());
            (201, json!({ "jobTemplate": body }))
        }
        ("PUT", p) if p.starts_with("/2017-08-29/jobTemplates/") => {
            let name = p.trim_start_matches("/2017-08-29/jobTemplates/").to_owned();
            let mut body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
            body["name"] = json!(name);
            let Some(t) = st.templates.iter_mut().find(|t| t["name"] == name) else {
                return (
                    404,
                    json!({ "__type": "NotFoundException", "message": "no such template" }),
                );
            };
            *t = body.clone();
            (200, json!({ "jobTemplate": body }))
        }
        ("GET", "/2017-08-29/jobTemplates") => {
            (200, json!({ "jobTemplates": st.templates.clone() }))
        }
        ("GET", p) if p.starts_with("/2017-08-29/jobTemplates/") => {
            let name = p.trim_start_matches("/2017-08-29/jobTemplates/");
            match st.templates.iter().find(|t| t["name"] == name) {
                Some(t) => (200, json!({ "jobTemplate": t })),
                None => (
                    404,
                    json!({ "__type": "NotFoundException", "message": "no such template" }),
                ),
            }
        }
        _ => (
            404,
            json!({ "message": format!("no route for {} {path}", req.method) }),
        ),
    }
}
