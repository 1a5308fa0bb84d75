//! Checked against values computed outside this code: Newcombe (1998), "Two-sided confidence
//! intervals for the single proportion: comparison of seven methods", Statistics in Medicine
//! 17:857–872, Table II, method 3 (Wilson score, no continuity correction), which statsmodels'
//! `proportion_confint(method="wilson")` reproduces to six places; and cases derived by hand
//! from the formulas in the crate docs (the arithmetic is written out beside each).

use super::*;

fn close(got: f64, want: f64, tol: f64) {
    assert!((got - want).abs() <= tol, "got {got}, want {want} (±{tol})");
}

fn interval(e: Estimate, low: f64, high: f64, tol: f64) {
    close(e.low, low, tol);
    close(e.high, high, tol);
}

#[test]
fn wilson_matches_newcombes_table() {
    // Newcombe 1998, Table II: 81/263, 15/148, 0/20, 1/29 (printed to four places).
    interval(wilson(81, 263, None, Z95), 0.2553, 0.3662, 5e-5);
    interval(wilson(15, 148, None, Z95), 0.0624, 0.1605, 5e-5);
    interval(wilson(0, 20, None, Z95), 0.0, 0.1611, 5e-5);
    interval(wilson(1, 29, None, Z95), 0.0061, 0.1718, 5e-5);
}

#[test]
fn wilson_at_prevalence_zero_and_one_stays_in_the_unit_interval() {
    // statsmodels: 0/1000 -> (0, 0.003827); 29/29 -> (0.883030, 1).
    let none = wilson(0, 1000, None, Z95);
    assert_eq!(none.low, 0.0);
    close(none.high, 0.003827, 1e-6);
    let all = wilson(29, 29, None, Z95);
    assert_eq!(all.high, 1.0);
    close(all.low, 0.883030, 1e-6);
    // A rare category as the study sees it: 3 of 1,200 -> (0.000851, 0.007324).
    interval(wilson(3, 1200, None, Z95), 0.000851, 0.007324, 1e-6);
}

#[test]
fn the_finite_population_correction_narrows_the_interval() {
    // N = 100, n = 50, x = 10: n* = 50 · 99 / 50 = 99; Wilson at p = 0.2, n = 99:
    // centre = (0.2 + z²/198) / (1 + z²/99), half = z/(1 + z²/99) · √(0.16/99 + z²/39204)
    // -> (0.133090, 0.289322). Without the correction (n = 50): (0.1124, 0.3304).
    interval(wilson(10, 50, Some(100), Z95), 0.133090, 0.289322, 1e-6);
    interval(wilson(10, 50, None, Z95), 0.1124, 0.3304, 1e-4);
    // N = 10, n = 9, x = 3: n* = 9 · 9 / 1 = 81 -> (0.240288, 0.441472).
    interval(wilson(3, 9, Some(10), Z95), 0.240288, 0.441472, 1e-6);
}

#[test]
fn a_census_collapses_the_interval_to_the_count() {
    let e = wilson(7, 2630, Some(2630), Z95);
    assert_eq!((e.low, e.estimate, e.high), (7.0 / 2630.0, 7.0 / 2630.0, 7.0 / 2630.0));
    let counts = e.scaled(2630);
    close(counts.estimate, 7.0, 1e-9);
    close(counts.low, 7.0, 1e-9);
    close(counts.high, 7.0, 1e-9);
}

#[test]
fn stratified_estimate_and_interval_by_hand() {
    // Strata (N_h, n_h, x_h): (1000, 100, 5), (200, 50, 10), (10, 1, 0); N = 1210.
    // p̂ = 1000/1210 · 0.05 + 200/1210 · 0.2 + 10/1210 · 0 = 0.0743802
    // V̂ = (1000/1210)² · 0.9 · 0.05 · 0.95 / 99 + (200/1210)² · 0.75 · 0.2 · 0.8 / 49
    //     + (10/1210)² · 0.9 · 0 / 1 = 0.000361845
    // n_eff = p̂ (1 − p̂) / V̂ = 190.2686; Wilson at (p̂, n_eff) -> (0.044942, 0.120664).
    let strata = [
        Stratum { population: 1000, sampled: 100, positives: 5 },
        Stratum { population: 200, sampled: 50, positives: 10 },
        Stratum { population: 10, sampled: 1, positives: 0 },
    ];
    let e = stratified(&strata, Z95);
    close(e.estimate, 0.074_380_165, 1e-8);
    interval(e, 0.044_942, 0.120_664, 1e-6);
}

#[test]
fn stratified_at_prevalence_zero_falls_back_to_the_whole_sample() {
    // No positive anywhere: V̂ = 0, so n_eff = n* of the whole sample: n = 150, N = 1500,
    // n* = 150 · 1499 / 1350 = 166.556 -> (0, 0.022544).
    let strata = [
        Stratum { population: 1000, sampled: 100, positives: 0 },
        Stratum { population: 500, sampled: 50, positives: 0 },
    ];
    let e = stratified(&strata, Z95);
    assert_eq!((e.estimate, e.low), (0.0, 0.0));
    close(e.high, 0.022_544, 1e-6);
}

#[test]
fn stratified_with_every_stratum_taken_whole_is_a_census() {
    let strata = [
        Stratum { population: 3, sampled: 3, positives: 1 },
        Stratum { population: 1, sampled: 1, positives: 1 },
    ];
    assert_eq!(stratified(&strata, Z95), Estimate::exact(0.5));
}

#[test]
fn a_single_stratum_is_a_simple_random_sample_in_its_estimate() {
    let strata = [Stratum { population: 500, sampled: 60, positives: 6 }];
    let st = stratified(&strata, Z95);
    let srs = wilson(6, 60, Some(500), Z95);
    close(st.estimate, srs.estimate, 1e-12);
    // V̂ uses n − 1 where Wilson's effective size uses n, so the two differ slightly.
    close(st.low, srs.low, 2e-3);
    close(st.high, srs.high, 2e-3);
}

#[test]
fn empty_samples_are_uninformative() {
    assert_eq!(wilson(0, 0, Some(10), Z95), Estimate { estimate: 0.0, low: 0.0, high: 1.0 });
    assert_eq!(stratified(&[], Z95), Estimate { estimate: 0.0, low: 0.0, high: 1.0 });
}

#[test]
fn planning_is_the_inverse_of_the_half_width() {
    // 0.25% prevalence, a frame of 250,000: the half width at n is Wilson's at n*.
    let n = sample_size_for(0.001, 0.0025, 250_000, Z95);
    assert!(half_width(0.0025, n, 250_000, Z95) <= 0.001);
    assert!(half_width(0.0025, n - 1, 250_000, Z95) > 0.001);
    // By hand: without the correction, p(1 − p) z² / h² ≈ 0.0025 · 0.9975 · 3.8415 / 1e-6
    // = 9,580 for the Wald interval; Wilson's and the correction move it by a few percent.
    assert!((9_000..10_500).contains(&n), "{n}");
    assert_eq!(half_width(0.0025, 250_000, 250_000, Z95), 0.0);
    assert_eq!(sample_size_for(0.0, 0.0025, 1000, Z95), 1000);
}

#[test]
fn design_ids_are_the_json_ones() {
    for d in [Design::Census, Design::Srs, Design::Stratified] {
        assert_eq!(serde_json::to_value(d).unwrap(), serde_json::json!(d.as_str()));
    }
}

#[test]
fn non_response_is_missing_at_random_within_its_stratum() {
    // SRS: N = 1000, n = 100 drawn, r = 80 analysed, x = 4. N̂ = 1000 · 80/100 = 800 analysed
    // units; Wilson at p = 0.05 with n* = 80 · 799 / 720 = 88.778 -> (0.020514, 0.116814)
    // (computed apart, in Python, from the formulas in the crate docs). The count is
    // p · N̂ = 40 = N · x / n, Horvitz–Thompson's.
    let t = Tally { population: 1000, drawn: 100, analysed: 80, positives: 4 };
    let e = frame_estimate(Design::Srs, &[t], Z95);
    close(e.units, 800.0, 1e-9);
    close(e.proportion.estimate, 0.05, 1e-12);
    interval(e.proportion, 0.020_514, 0.116_814, 1e-6);
    close(e.counts().estimate, 40.0, 1e-9);
    // Stratified: (N, n, r, x) = (900, 60, 50, 1), (100, 40, 30, 6): N̂_h = 750, 75;
    // p̂ = 750/825 · 0.02 + 75/825 · 0.2 = 0.036364; V̂ = (750/825)² (1 − 50/750) 0.02 · 0.98 / 49
    // + (75/825)² (1 − 30/75) 0.2 · 0.8 / 29 = 0.000335898; n_eff = 104.321
    // -> (0.013899, 0.091761); the count p̂ · 825 = 30.
    let strata = [
        Tally { population: 900, drawn: 60, analysed: 50, positives: 1 },
        Tally { population: 100, drawn: 40, analysed: 30, positives: 6 },
    ];
    let e = frame_estimate(Design::Stratified, &strata, Z95);
    close(e.proportion.estimate, 0.036_363_636, 1e-8);
    interval(e.proportion, 0.013_899, 0.091_761, 1e-6);
    close(e.counts().estimate, 30.0, 1e-9);
}

#[test]
fn a_census_estimate_is_its_count() {
    let t = Tally { population: 2585, drawn: 2585, analysed: 2585, positives: 56 };
    let e = frame_estimate(Design::Census, &[t], Z95);
    let c = e.counts();
    assert_eq!((c.low, c.estimate, c.high), (56.0, 56.0, 56.0));
    // Nothing analysed yet: no information, and no count.
    let none = frame_estimate(Design::Srs, &[Tally { population: 10, drawn: 3, ..Tally::default() }], Z95);
    assert_eq!((none.proportion.low, none.proportion.high, none.units), (0.0, 1.0, 0.0));
}

#[test]
fn the_expected_interval_is_wilsons_at_the_prevalence_itself() {
    // p = 0.2, n = 50 of N = 100: the same n* = 99 case as above, (0.133090, 0.289322).
    let e = expected_interval(0.2, 50, 100, Z95);
    assert_eq!(e.estimate, 0.2);
    interval(e, 0.133090, 0.289322, 1e-6);
    assert_eq!(expected_interval(0.0025, 2585, 2585, Z95), Estimate::exact(0.0025));
    close(half_width(0.2, 50, 100, Z95), (0.289322 - 0.133090) / 2.0, 1e-6);
}

#[test]
fn chapman_matches_published_examples() {
    // Wikipedia, "Mark and recapture" (Chapman estimator): 10 turtles marked, 15 caught on the
    // second visit, 5 of them marked: Lincoln–Petersen 30, Chapman (11·16)/6 − 1 = 28.3.
    let turtles = chapman(10, 15, 5, Z95).unwrap();
    close(turtles.estimate, 28.333_333, 1e-6);
    // recapr's documented example, NChapman(n1 = 100, n2 = 100, m2 = 20): 101²/21 − 1.
    close(chapman(100, 100, 20, Z95).unwrap().estimate, 484.761_905, 1e-6);
}

#[test]
fn chapman_variance_and_interval_by_hand() {
    // n1 = 3, n2 = 4, m = 0: N = 4·5/1 − 1 = 19; V = 4·5·3·4/(1²·2) = 120; U = 7,
    // f0 = 3·4/1 = 12 = N − U; C = exp(1.96·√ln(1 + 120/144)) = exp(1.96·0.778547) = 4.59963;
    // interval [7 + 12/C, 7 + 12·C] = [9.6090, 62.1956].
    let e = chapman(3, 4, 0, Z95).unwrap();
    assert_eq!((e.observed, e.estimate, e.variance), (7, 19.0, 120.0));
    close(e.low, 9.609_039, 1e-5);
    close(e.high, 62.192_728, 1e-5);
    // The turtles: V = 11·16·5·10/(6²·7) = 34.9206; U = 20, f0 = 5·10/6 = 8.3333;
    // C = exp(1.96·√ln(1 + 34.9206/69.4444)) = 3.49398: [22.3853, 49.1140].
    let t = chapman(10, 15, 5, Z95).unwrap();
    close(t.variance, 34.920_635, 1e-6);
    close(t.low, 22.385_262, 1e-5);
    close(t.high, 49.113_973, 1e-5);
    assert!(t.low > t.observed as f64 && t.high > t.estimate);
    close(t.coverage(), 20.0 / 28.333_333, 1e-6);
}

#[test]
fn chapman_never_estimates_below_what_was_seen() {
    // One source saw everything the other did: the estimate is the union, and so is the interval.
    let nested = chapman(50, 80, 50, Z95).unwrap();
    assert_eq!((nested.estimate, nested.variance, nested.low, nested.high), (80.0, 0.0, 80.0, 80.0));
    assert_eq!(nested.coverage(), 1.0);
    // A large overlap keeps the lower end above the union, where N ± 1.96√V would not.
    for (n1, n2, m) in [(900, 950, 890), (5, 5, 4), (1, 1, 0), (0, 0, 0), (1000, 3, 2)] {
        let e = chapman(n1, n2, m, Z95).unwrap();
        assert!(e.low >= e.observed as f64, "{e:?}");
        assert!(e.low <= e.estimate && e.estimate <= e.high, "{e:?}");
    }
    // Counts that cannot be two sightings of one population.
    assert_eq!(chapman(3, 10, 4, Z95), None);
    assert_eq!(chapman(10, 3, 4, Z95), None);
}
