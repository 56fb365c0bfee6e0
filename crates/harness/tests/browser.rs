//! The browser tab, in a process of its own: the lesson tests in the library stop every child
//! process the harness registered when they finish, which would include this test's browser.

use std::time::Duration;

use harness::browser::Browser;
use harness::serve::loopback_listener;
use serde_json::json;

/// Driving a tab: a script's value comes back as JSON, a script that throws is an error with its
/// message, and waiting for what never happens ends in an error. Skipped without a browser,
/// unless WORKBOOK_REQUIRE_BROWSER=1.
#[test]
fn a_tab_runs_scripts_and_reports_their_failures() {
    let Some(browser) = Browser::find().unwrap() else {
        eprintln!("no Chromium: skipped (install Debian's `chromium` package)");
        return;
    };
    let unused = loopback_listener().unwrap().local_addr().unwrap();
    let page =
        "data:text/html,<button id=b onclick=\"this.dataset.n=(+this.dataset.n||0)+1\">b</button>";
    let mut tab = browser.open(page, unused).unwrap();
    assert_eq!(tab.evaluate("1 + 2").unwrap(), json!(3));
    tab.evaluate("document.getElementById('b').click(); document.getElementById('b').click()")
        .unwrap();
    let clicks = tab
        .wait_until(
            "document.getElementById('b').dataset.n",
            Duration::from_secs(5),
        )
        .unwrap();
    assert_eq!(clicks, json!("2"));
    let thrown = tab.evaluate("throw new Error('boom')").unwrap_err();
    assert!(thrown.to_string().contains("boom"), "{thrown}");
    let never = tab
        .wait_until("false", Duration::from_millis(100))
        .unwrap_err();
    assert!(never.to_string().contains("within"), "{never}");
    assert!(tab.page_requests().is_empty());
    tab.close();
    assert!(
        browser
            .open("http://10.0.0.1/", "10.0.0.1:80".parse().unwrap())
            .is_err()
    );
}
