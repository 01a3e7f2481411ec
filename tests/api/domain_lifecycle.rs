//! A domain follows its product through expiry, redemption and cancellation, and back to active
//! when a renewal is paid in time.

use chrono::Duration;

use crate::helpers::*;

async fn domain_status(app: &TestApp, org: &str, id: &str) -> String {
    let (org, id) = (org.to_string(), id.to_string());
    app.with_conn(move |c| {
        leman::models::domains::find(c, &org, &id)
            .unwrap()
            .unwrap()
            .status
            .as_str()
            .to_string()
    })
    .await
}

#[tokio::test]
async fn dl_a_domain_expires_is_redeemed_and_is_cancelled_with_its_product() {
    let app = TestApp::spawn().await;
    let (_, s) = app.signed_in("owner@example.ch").await;
    let org = app.an_org(&s).await;
    let d = app
        .registered_domain(&org.id, "follows-product.ch", "owner@example.ch")
        .await;
    let expiry = leman::db::now();
    let product = d.product_id.clone();
    app.with_conn(move |c| {
        use diesel::prelude::*;
        use leman::db::schema::products;
        diesel::update(products::table.find(&product))
            .set(products::expires_at.eq(Some(expiry)))
            .execute(c)
            .unwrap();
    })
    .await;
    let (config, catalog) = (app.services.config.clone(), app.services.catalog.clone());
    let run = |at: chrono::NaiveDateTime| {
        let (config, catalog) = (config.clone(), catalog.clone());
        app.with_conn(move |c| {
            leman::services::product_expiry::run(c, &config, &catalog, at).unwrap();
        })
    };
    run(expiry + Duration::hours(1)).await;
    assert_eq!(domain_status(&app, &org.id, &d.id).await, "expired");
    // .ch: 30 days of grace, then 30 of redemption (suspended): still expired, then cancelled.
    run(expiry + Duration::days(31)).await;
    assert_eq!(domain_status(&app, &org.id, &d.id).await, "expired");
    run(expiry + Duration::days(62)).await;
    assert_eq!(domain_status(&app, &org.id, &d.id).await, "cancelled");
}
