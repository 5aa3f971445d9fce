//! The operator console over HTTP (SPEC §8): sign-in and its session cookie, the redirect
//! of signed-out requests, CSRF on every form, survey-level permissions (a page the user
//! may not see is a 404), escaping of customer text, and each page's content, against the
//! real service and the Cloud API mock.

mod common;

use common::*;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use serde_json::json;

/// A browser without JavaScript: no redirects followed, the session cookie kept by hand.
struct Browser {
    base: String,
    http: reqwest::Client,
    cookie: Option<String>,
}

/// What a console request answered.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn title(&self) -> &str {
        let start = self.body.find("<title>").map_or(0, |i| i + 7);
        let end = self.body[start..]
            .find("</title>")
            .map_or(start, |i| start + i);
        &self.body[start..end]
    }

    /// The CSRF token the page's forms carry.
    fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self.body.find(marker).expect("a form with a CSRF token") + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_string()
    }
}

impl Browser {
    fn new(app: &TestApp) -> Browser {
        Browser {
            base: app.url.clone(),
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            cookie: None,
        }
    }

    async fn answer(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let request = match &self.cookie {
            Some(cookie) => request.header(COOKIE, cookie),
            None => request,
        };
        let response = request.send().await.expect("the console answers");
        if let Some(set) = response.headers().get(SET_COOKIE) {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_string();
            self.cookie = Some(pair);
        }
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap_or_default(),
        }
    }

    async fn get(&mut self, path: &str) -> Answer {
        let request = self.http.get(format!("{}{path}", self.base));
        self.answer(request).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let request = self.http.post(format!("{}{path}", self.base)).form(form);
        self.answer(request).await
    }

    async fn sign_in(&mut self, token: &str) -> Answer {
        self.post("/console/login", &[("token", token)]).await
    }
}

async fn app_with_users() -> TestApp {
    spawn_app_with(Options {
        edit: Some(with_users),
        ..Options::default()
    })
    .await
}

/// Every page of SPEC §8 but sign-in.
const PAGES: [&str; 9] = [
    "/console",
    "/console/distributions",
    "/console/distributions/csat-wa",
    "/console/rules",
    "/console/rules/invite-on-resolve",
    "/console/cases?q=C-1",
    "/console/cases/C-1",
    "/console/suppressions",
    "/console/accounts",
];

#[tokio::test]
async fn signed_out_requests_go_to_sign_in_and_a_wrong_token_answers_401_with_the_form() {
    let app = app_with_users().await;
    let mut browser = Browser::new(&app);
    for page in PAGES {
        let answer = browser.get(page).await;
        assert_eq!(answer.status, 303, "{page} signed out");
        assert_eq!(answer.location(), "/console/login", "{page}");
    }
    let answer = browser
        .post("/console/rules/invite-on-resolve/try", &[("yaml", "id: x")])
        .await;
    assert_eq!(answer.status, 303, "a signed-out POST goes to sign-in too");

    let form = browser.get("/console/login").await;
    assert_eq!(form.status, 200);
    assert!(form.title().contains("Sign in"), "{}", form.title());
    let wrong = browser.sign_in("not-a-token").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("name=\"token\""), "the form again");
    assert!(wrong.body.contains("not valid"), "it says why");
    assert!(browser.cookie.is_none(), "no session for a wrong token");
    let forged = browser
        .answer(
            browser
                .http
                .post(format!("{}/console/login", app.url))
                .header("origin", "https://elsewhere.example")
                .form(&[("token", ALICE)]),
        )
        .await;
    assert_eq!(forged.status, 403, "a sign-in posted from another site");
    assert!(browser.cookie.is_none(), "starts no session");
    app.stop().await;
}

#[tokio::test]
async fn signing_in_starts_a_strict_http_only_session_that_logout_ends() {
    let app = app_with_users().await;
    let mut browser = Browser::new(&app);
    let signed = browser.sign_in(BOB).await;
    assert_eq!(signed.status, 303);
    assert_eq!(signed.location(), "/console");
    let cookie = signed.headers[SET_COOKIE].to_str().unwrap().to_string();
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/console", "Max-Age="] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    assert!(!cookie.contains(BOB), "the cookie never holds the token");

    let overview = browser.get("/console").await;
    assert_eq!(overview.status, 200, "{}", overview.body);
    let policy = overview.headers["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert_eq!(overview.headers["x-frame-options"], "DENY");
    assert_eq!(overview.headers["referrer-policy"], "same-origin");
    assert_eq!(overview.headers["cache-control"], "no-store");
    assert!(overview.body.contains("Sign out"));

    let csrf = overview.csrf();
    let out = browser.post("/console/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    assert_eq!(out.location(), "/console/login");
    let after = browser.get("/console").await;
    assert_eq!(after.status, 303, "the ended session no longer signs in");
    app.stop().await;
}

#[tokio::test]
async fn a_user_without_a_share_gets_404_on_another_surveys_pages() {
    let app = app_with_users().await;
    let (status, _) = call(
        &app,
        reqwest::Method::PUT,
        "/cases/C-1",
        Some(ALICE),
        Some(resolved_case("C-1", "+34600111222")),
    )
    .await;
    assert_eq!(status, 202);
    eventually(std::time::Duration::from_secs(10), || async {
        let (_, invites) = call(
            &app,
            reqwest::Method::GET,
            "/invites?case_id=C-1",
            Some(ALICE),
            None,
        )
        .await;
        (invites["items"].as_array()?.len() == 1).then_some(())
    })
    .await
    .expect("the invite is made");

    let mut dave = Browser::new(&app);
    dave.sign_in(DAVE).await;
    for page in [
        "/console/distributions/csat-wa",
        "/console/rules/invite-on-resolve",
        "/console/overview.csv?survey=csat&group_by=agent",
        "/console?survey=csat",
    ] {
        let answer = dave.get(page).await;
        assert_eq!(answer.status, 404, "{page}: {}", answer.body);
        assert!(!answer.body.contains("csat_invite"), "{page} shows nothing");
    }
    let list = dave.get("/console/distributions").await;
    assert_eq!(list.status, 200);
    assert!(!list.body.contains("csat-wa"), "not listed either");
    let case = dave.get("/console/cases/C-1").await;
    assert_eq!(case.status, 200, "the case itself, as the API shows it");
    assert!(
        case.body
            .contains("No invite for this case (only invites of the surveys you may see"),
        "but not the invites of a survey dave may not see"
    );

    let mut bob = Browser::new(&app);
    bob.sign_in(BOB).await;
    let page = bob.get("/console/distributions/csat-wa").await;
    assert_eq!(page.status, 200, "view_distribution sees it");
    let page = bob.get("/console/cases/C-1").await;
    assert!(page.body.contains("csat-wa"), "and the case's invite");

    let csrf = page.csrf();
    let refused = bob
        .post(
            "/console/distributions/csat-wa/status",
            &[("csrf", &csrf), ("status", "paused")],
        )
        .await;
    assert_eq!(refused.status, 403, "view_distribution may not pause");
    assert!(
        refused.body.contains("edit_distribution"),
        "{}",
        refused.body
    );
    let refused = bob
        .post(
            "/console/suppressions/remove",
            &[("csrf", &csrf), ("phone", "+34600111222")],
        )
        .await;
    assert_eq!(refused.status, 403, "only admins remove a suppression");
    assert!(refused.body.contains("admin role"), "{}", refused.body);
    app.stop().await;
}

#[tokio::test]
async fn a_form_without_its_csrf_token_answers_403_and_changes_nothing() {
    let app = app_with_users().await;
    let mut alice = Browser::new(&app);
    alice.sign_in(ALICE).await;
    let page = alice.get("/console/distributions/csat-wa").await;
    let csrf = page.csrf();

    let forms: [(&str, Vec<(&str, &str)>); 5] = [
        (
            "/console/distributions/csat-wa/status",
            vec![("status", "paused")],
        ),
        (
            "/console/distributions/csat-wa/clone",
            vec![("new_id", "csat-wa-copy")],
        ),
        ("/console/suppressions", vec![("phone", "+34600999888")]),
        (
            "/console/rules/invite-on-resolve",
            vec![("yaml", "id: invite-on-resolve\non: case_update\nthen: []\n")],
        ),
        ("/console/logout", vec![]),
    ];
    for (path, fields) in &forms {
        for token in [None, Some("forged")] {
            let mut form = fields.clone();
            if let Some(token) = token {
                form.push(("csrf", token));
            }
            let answer = alice.post(path, &form).await;
            assert_eq!(answer.status, 403, "{path} with {token:?}");
        }
    }
    let (_, distribution) = call(
        &app,
        reqwest::Method::GET,
        "/distributions/csat-wa",
        Some(ALICE),
        None,
    )
    .await;
    assert_eq!(distribution["status"], "active", "not paused");
    let (status, _) = call(
        &app,
        reqwest::Method::GET,
        "/distributions/csat-wa-copy",
        Some(ALICE),
        None,
    )
    .await;
    assert_eq!(status, 404, "not cloned");
    let (_, suppressions) = call(
        &app,
        reqwest::Method::GET,
        "/suppressions",
        Some(ALICE),
        None,
    )
    .await;
    assert_eq!(suppressions["items"], json!([]), "nothing suppressed");
    let (_, rule) = call(
        &app,
        reqwest::Method::GET,
        "/rules/invite-on-resolve",
        Some(ALICE),
        None,
    )
    .await;
    assert_eq!(
        rule["then"].as_array().map(Vec::len),
        Some(2),
        "the rule is unchanged"
    );
    assert_eq!(alice.get("/console").await.status, 200, "still signed in");

    let paused = alice
        .post(
            "/console/distributions/csat-wa/status",
            &[("csrf", &csrf), ("status", "paused")],
        )
        .await;
    assert_eq!(paused.status, 303, "{}", paused.body);
    let (_, distribution) = call(
        &app,
        reqwest::Method::GET,
        "/distributions/csat-wa",
        Some(ALICE),
        None,
    )
    .await;
    assert_eq!(
        distribution["status"], "paused",
        "with its token the form works"
    );
    let page = alice.get("/console/distributions/csat-wa").await;
    assert!(
        page.body.contains(">Resume</button>"),
        "and offers to resume"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_customers_script_in_their_name_is_shown_as_text_on_the_case_page() {
    let app = spawn_app().await;
    let mut case = resolved_case("C-1", "+34600111222");
    case["profile"]["name"] = json!("<script>alert('x')</script> Ana");
    case["tags"] = json!(["<img src=x onerror=alert(1)>"]);
    app.put_case(&case).await;
    app.settled("C-1").await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/console/cases/C-1").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    assert!(!page.body.contains("<img src=x"));
    assert!(
        page.body.contains("&#60;script&#62;alert") || page.body.contains("&lt;script&gt;alert")
    );
    assert!(page.title().contains("Case C-1 of"), "{}", page.title());
    let found = browser.get("/console/cases?q=%2B34600111222").await;
    assert!(!found.body.contains("<script>alert"));
    app.stop().await;
}

#[tokio::test]
async fn an_open_console_needs_no_sign_in_and_every_page_names_what_it_shows() {
    let app = spawn_app_with(Options {
        edit: Some(with_translated_invitation),
        ..Options::default()
    })
    .await;
    app.put_case(&resolved_case("C-1", "+34600111222")).await;
    app.invite_reaches("C-1", "opened").await;
    let mut browser = Browser::new(&app);
    let login = browser.get("/console/login").await;
    assert_eq!(login.status, 303, "no users: no sign-in");
    let titles = [
        "Overview of Post-case CSAT",
        "Distributions",
        "Distribution csat-wa",
        "Rules",
        "Rule invite-on-resolve",
        "Cases matching C-1",
        "Case C-1 of Ana López",
        "Suppressed numbers",
        "Sender accounts",
    ];
    for (page, title) in PAGES.iter().zip(titles) {
        let answer = browser.get(page).await;
        assert_eq!(answer.status, 200, "{page}: {}", answer.body);
        assert!(
            answer.title().starts_with(title),
            "{page}: {}",
            answer.title()
        );
    }

    let overview = browser.get("/console?group_by=agent").await;
    assert!(overview.body.contains("<svg class=\"chart\""));
    assert!(overview.body.contains("agent-7"), "the agent's bar");
    let csv = browser
        .get("/console/overview.csv?survey=csat&group_by=agent")
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv.headers[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let mut lines = csv.body.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("key,invited,sent,delivered"));
    assert!(
        lines.next().unwrap().starts_with("agent-7,1,1,1"),
        "{}",
        csv.body
    );

    let spanish = browser
        .get("/console/distributions/csat-wa?language=es&message=invitation")
        .await;
    assert!(
        spanish
            .body
            .contains("Hola Ana, su caso 1001 está resuelto"),
        "the Spanish bubble with sample values: {}",
        spanish.body
    );
    let from_case = browser
        .get("/console/distributions/csat-wa?language=pt_BR&case_id=C-1")
        .await;
    assert!(from_case.body.contains("Olá Ana, seu caso 1 foi resolvido"));
    assert!(from_case.body.contains("Open the survey"), "the URL button");

    for q in ["C-1", "1", "+34600111222", "+34 600 111 222"] {
        let found = browser
            .get(&format!("/console/cases?q={}", urlencode(q)))
            .await;
        assert!(
            found.body.contains("href=\"/console/cases/C-1\""),
            "found by {q:?}"
        );
    }
    let case = browser.get("/console/cases/C-1").await;
    assert!(
        case.body.contains("rule invite-on-resolve: matched"),
        "{}",
        case.body
    );
    assert!(case
        .body
        .contains("case.status changed to Resolved (saw Resolved)"));
    assert!(
        case.body.contains(
            "trigger_survey_invitation → queued — language es from translation (invite inv_"
        ),
        "{}",
        case.body
    );
    assert!(
        case.body
            .contains("rule invite-on-resolve: not evaluated, case.status did not change"),
        "{}",
        case.body
    );
    app.stop().await;
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(' ', "%20")
}

#[tokio::test]
async fn suppressions_and_clones_are_made_from_the_console() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/console/suppressions").await;
    let csrf = page.csrf();
    let added = browser
        .post(
            "/console/suppressions",
            &[
                ("csrf", &csrf),
                ("phone", "+34600999888"),
                ("reason", "asked by phone"),
                ("account", ""),
            ],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let (_, list) = call(&app, reqwest::Method::GET, "/suppressions", None, None).await;
    assert_eq!(list["items"][0]["phone"], "+34600999888");
    let bad = browser
        .post(
            "/console/suppressions",
            &[("csrf", &csrf), ("phone", "call me")],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("E.164"), "it says why");
    let removed = browser
        .post(
            "/console/suppressions/remove",
            &[("csrf", &csrf), ("phone", "+34600999888")],
        )
        .await;
    assert_eq!(removed.status, 303);
    let (_, list) = call(&app, reqwest::Method::GET, "/suppressions", None, None).await;
    assert_eq!(list["items"], json!([]));

    let cloned = browser
        .post(
            "/console/distributions/csat-wa/clone",
            &[("csrf", &csrf), ("new_id", "csat-wa-2")],
        )
        .await;
    assert_eq!(cloned.status, 303, "{}", cloned.body);
    assert_eq!(cloned.location(), "/console/distributions/csat-wa-2");
    let copy = browser.get("/console/distributions/csat-wa-2").await;
    assert!(copy.body.contains("badge draft"), "the copy is a draft");
    let unnamed = browser
        .post(
            "/console/distributions/csat-wa/clone",
            &[("csrf", &csrf), ("new_id", " ")],
        )
        .await;
    assert_eq!(
        unnamed.location(),
        "/console/distributions/csat-wa-copy",
        "without an id, the API's default"
    );
    let test = browser
        .post(
            "/console/distributions/csat-wa/test",
            &[
                ("csrf", &csrf),
                ("to", "+34600999111"),
                ("message", "invitation"),
                ("language", "es"),
            ],
        )
        .await;
    assert_eq!(test.status, 202, "{}", test.body);
    let received = app
        .mock
        .wait_for_messages(1, std::time::Duration::from_secs(10))
        .await;
    assert_eq!(received[0].to, "34600999111");
    app.stop().await;
}

#[tokio::test]
async fn trying_a_rule_shows_each_condition_with_the_value_it_saw_and_stores_nothing() {
    let app = spawn_app().await;
    let mut case = resolved_case("C-1", "+34600111222");
    case["case_type"] = json!("shipping");
    app.put_case(&case).await;
    app.settled("C-1").await;
    let (_, before) = call(
        &app,
        reqwest::Method::GET,
        "/rules/invite-on-resolve",
        None,
        None,
    )
    .await;

    let mut browser = Browser::new(&app);
    let page = browser.get("/console/rules/invite-on-resolve").await;
    assert!(
        page.body
            .contains("case.case_type is one of billing, technical"),
        "in words"
    );
    let csrf = page.csrf();
    let yaml = "id: invite-on-resolve\non: case_update\nwhen:\n  all:\n    - case.status: { changed_to: Resolved }\n    - case.case_type: { in: [billing, shipping] }\nthen:\n  - trigger_survey_invitation: { survey: csat, channel: whatsapp, distribution: csat-wa }\n";
    let tried = browser
        .post(
            "/console/rules/invite-on-resolve/try",
            &[("csrf", &csrf), ("yaml", yaml), ("case_id", "C-1")],
        )
        .await;
    assert_eq!(tried.status, 200, "{}", tried.body);
    assert!(
        tried.body.contains("rule invite-on-resolve: MATCHED"),
        "{}",
        tried.body
    );
    assert!(
        tried.body.contains(
            "case.case_type in [&#34;billing&#34;,&#34;shipping&#34;] (saw &#34;shipping&#34;)"
        ) || tried.body.contains("(saw shipping)")
            || tried.body.contains("saw &quot;shipping&quot;"),
        "{}",
        tried.body
    );
    assert!(
        tried.body.contains("Hi Ana, your case 1 is resolved"),
        "the message it would send"
    );
    let (_, after) = call(
        &app,
        reqwest::Method::GET,
        "/rules/invite-on-resolve",
        None,
        None,
    )
    .await;
    assert_eq!(before, after, "trying stores nothing");
    assert_eq!(app.invites_of("C-1").await.len(), 0, "and sends nothing");

    let broken = yaml.replace("distribution: csat-wa", "distribution: nowhere");
    let invalid = browser
        .post(
            "/console/rules/invite-on-resolve/try",
            &[("csrf", &csrf), ("yaml", &broken), ("case_id", "C-1")],
        )
        .await;
    assert_eq!(invalid.status, 422, "{}", invalid.body);
    assert!(
        invalid.body.contains("nowhere"),
        "the error names the problem: {}",
        invalid.body
    );
    assert!(
        invalid.body.contains("distribution: nowhere"),
        "the edited text is kept"
    );
    let not_yaml = browser
        .post(
            "/console/rules/invite-on-resolve/try",
            &[
                ("csrf", &csrf),
                ("yaml", "id: [unclosed"),
                ("case_id", "C-1"),
            ],
        )
        .await;
    assert_eq!(not_yaml.status, 422);
    assert!(not_yaml.body.contains("line 1"), "{}", not_yaml.body);

    let saved = browser
        .post(
            "/console/rules/invite-on-resolve",
            &[("csrf", &csrf), ("yaml", yaml), ("case_id", "C-1")],
        )
        .await;
    assert_eq!(saved.status, 200, "{}", saved.body);
    assert!(saved.body.contains("Saved"));
    let (_, after) = call(
        &app,
        reqwest::Method::GET,
        "/rules/invite-on-resolve",
        None,
        None,
    )
    .await;
    assert_eq!(
        after["when"]["all"][1]["case.case_type"]["in"],
        json!(["billing", "shipping"])
    );
    app.stop().await;
}

#[tokio::test]
async fn a_stopped_account_shows_why_and_is_resumed_from_the_console() {
    let app = spawn_app().await;
    app.mock.fail_next(closeloop_wamock::Failure::graph(
        401,
        190,
        "Invalid OAuth access token",
    ));
    app.put_case(&resolved_case("C-1", "+34600111222")).await;
    let mut browser = Browser::new(&app);
    let accounts = eventually(std::time::Duration::from_secs(10), || async {
        let mut browser = Browser::new(&app);
        let page = browser.get("/console/accounts").await;
        page.body.contains("badge stopped").then_some(page)
    })
    .await
    .expect("the account is shown stopped");
    assert!(
        accounts.body.contains("190 Invalid OAuth access token"),
        "with the provider's reason: {}",
        accounts.body
    );
    let distribution = browser.get("/console/distributions/csat-wa").await;
    assert!(
        distribution.body.contains("badge failed"),
        "{}",
        distribution.body
    );
    assert!(distribution.body.contains("Invalid OAuth access token"));

    let page = browser.get("/console/accounts").await;
    let resumed = browser
        .post(
            "/console/accounts/support-wa/resume",
            &[("csrf", &page.csrf())],
        )
        .await;
    assert_eq!(resumed.status, 303, "{}", resumed.body);
    app.invite_reaches("C-1", "opened").await;
    let page = browser.get("/console/accounts").await;
    assert!(!page.body.contains("badge stopped"), "{}", page.body);
    app.stop().await;
}

#[tokio::test]
async fn a_session_expires_and_an_open_consoles_forms_need_their_token_too() {
    let app = spawn_app_with(Options {
        edit: Some(with_users),
        clock_speed: 200_000.0,
        ..Options::default()
    })
    .await;
    let mut browser = Browser::new(&app);
    browser.sign_in(ALICE).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let expired = browser.get("/console").await;
    assert_eq!(expired.status, 303, "8 hours of clock time later");
    assert_eq!(expired.location(), "/console/login");
    app.stop().await;

    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/console/suppressions").await;
    assert!(
        browser.cookie.is_some(),
        "an open console still has a session"
    );
    let refused = browser
        .post("/console/suppressions", &[("phone", "+34600999888")])
        .await;
    assert_eq!(refused.status, 403);
    let mut stranger = Browser::new(&app);
    let refused = stranger
        .post(
            "/console/suppressions",
            &[("csrf", &page.csrf()), ("phone", "+34600999888")],
        )
        .await;
    assert_eq!(refused.status, 403, "another browser's token is no good");
    let (_, list) = call(&app, reqwest::Method::GET, "/suppressions", None, None).await;
    assert_eq!(list["items"], json!([]));
    app.stop().await;
}

#[tokio::test]
async fn the_overview_filters_by_day_and_says_what_is_wrong_with_a_filter() {
    let app = spawn_app().await;
    app.put_case(&resolved_case("C-1", "+34600111222")).await;
    app.invite_reaches("C-1", "opened").await;
    let mut browser = Browser::new(&app);
    let today = time::OffsetDateTime::now_utc().date();
    let page = browser
        .get(&format!("/console?from={today}&to={today}&group_by=region"))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("<td>EMEA</td><td>1</td>"),
        "{}",
        page.body
    );
    let page = browser
        .get("/console?from=2001-01-01&to=2001-01-31&group_by=region")
        .await;
    assert!(page.body.contains("No invites in this range yet."));
    let bad = browser.get("/console?from=yesterday").await;
    assert_eq!(bad.status, 400);
    assert!(
        bad.body.contains("from must be a day like 2026-01-31"),
        "{}",
        bad.body
    );
    let bad = browser.get("/console?group_by=mood").await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("group_by must be one of"), "{}", bad.body);
    app.stop().await;
}

#[tokio::test]
async fn the_trace_in_words_says_why_a_survey_was_not_sent() {
    let app = spawn_app_with(Options {
        quarantine: Some("7d"),
        ..Options::default()
    })
    .await;
    app.put_case(&resolved_case("C-1", "+34600111222")).await;
    app.settled("C-1").await;
    app.put_case(&resolved_case("C-2", "+34600111222")).await;
    app.settled("C-2").await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/console/cases/C-2").await;
    assert!(
        page.body
            .contains("trigger_survey_invitation → not sent: quarantined — language es")
            && page
                .body
                .contains("+34600111222 was invited by csat-wa within 1w"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Not sent or failed: quarantined"),
        "{}",
        page.body
    );
    app.stop().await;
}

#[tokio::test]
async fn the_vendored_htmx_and_the_stylesheet_are_served_cached_and_unknown_pages_are_404() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let htmx = browser.get("/console/assets/htmx-2.0.11.min.js").await;
    assert_eq!(htmx.status, 200);
    assert_eq!(
        htmx.headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(htmx.headers[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(htmx.body.contains("version:\"2.0.11\""), "the pinned htmx");
    let page = browser.get("/console").await;
    assert!(page
        .body
        .contains("src=\"/console/assets/htmx-2.0.11.min.js\""));
    let css = browser.get("/console/assets/console.css").await;
    assert_eq!(css.status, 200);
    assert!(css.headers[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    let missing = browser.get("/console/nothing/here").await;
    assert_eq!(missing.status, 404);
    assert!(
        missing.title().starts_with("Not found"),
        "an HTML page: {}",
        missing.body
    );
    assert_eq!(browser.get("/console/assets/nope.js").await.status, 404);
    app.stop().await;
}

/// The invitation with a media header and quick-reply buttons.
fn with_header_and_quick_replies(text: String) -> String {
    text.replacen(
        "        url_button_suffix: \"{{survey.token}}\"\n",
        "        url_button_suffix: \"{{survey.token}}\"\n        header_image: https://example.test/logo.png\n        quick_replies: { question: score, values: [5, 3, 1] }\n",
        1,
    )
}

#[tokio::test]
async fn the_preview_bubble_shows_the_header_media_and_every_button() {
    let app = spawn_app_with(Options {
        edit: Some(with_header_and_quick_replies),
        ..Options::default()
    })
    .await;
    let mut browser = Browser::new(&app);
    let page = browser.get("/console/distributions/csat-wa").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("<div class=\"header\">[image] https://example.test/logo.png</div>"),
        "{}",
        page.body
    );
    for button in [
        "Open the survey ↗",
        "↩ answers 5",
        "↩ answers 3",
        "↩ answers 1",
    ] {
        assert!(
            page.body.contains(&format!("<span>{button}</span>")),
            "{button}: {}",
            page.body
        );
    }
    let missing = browser
        .get("/console/distributions/csat-wa?language=fr")
        .await;
    assert_eq!(missing.status, 200, "the page, with the preview's problem");
    assert!(
        missing.body.contains("is not offered in"),
        "{}",
        missing.body
    );
    app.stop().await;
}
