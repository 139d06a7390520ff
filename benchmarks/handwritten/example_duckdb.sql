-- The example model (src/leadscore/project/templates/model.yaml), written by hand for DuckDB
-- over the natural Parquet layout (write_parquet.py), as a data engineer would: one pass over
-- the events with FILTER aggregates, one row per contact, the model's arithmetic spelled out
-- (points × decay rounded to 6 decimals, per-event points summed in millionths, scores
-- rounded half up to 2 decimals, sums left to right). {contacts}, {events} and {as_of_us}
-- (microseconds since the epoch) are filled in by the runner.

CREATE OR REPLACE TEMP MACRO decay_factor(age_us) AS
    CASE WHEN age_us <= 0 THEN 1.0::DOUBLE
         WHEN age_us > 31536000000000 THEN 0.0::DOUBLE               -- gone after 365 days
         ELSE pow(0.5, age_us::DOUBLE / 5184000000000.0::DOUBLE) END;   -- half-life 60 days

CREATE OR REPLACE TEMP MACRO decayed(points, at_us) AS
    floor(points * decay_factor({as_of_us} - at_us) * 1000000.0 + 0.5) / 1000000.0;

CREATE OR REPLACE TEMP MACRO round2(x) AS floor(x * 100.0 + 0.5) / 100.0;

WITH events AS (
    SELECT contact_id, type, epoch_us(occurred_at) AS at_us, lower(url) AS url,
           lower(form_id) AS form_id, lower(source) AS source, bounce_type
    FROM read_parquet('{events}')
    WHERE epoch_us(occurred_at) <= {as_of_us}
),
activity AS (
    SELECT contact_id,
        max(at_us) FILTER (WHERE type = 'form_submission'
                           AND form_id IN ('demo-request', 'contact-sales', 'evaluation-request'))
            AS demo_at,
        max(at_us) FILTER (WHERE type = 'page_view' AND url LIKE '%/pricing%'
                           AND at_us >= {as_of_us} - 2592000000000) AS pricing_at,
        max(at_us) FILTER (WHERE type = 'meeting_booked') AS meeting_at,
        max(at_us) FILTER (WHERE type = 'form_submission'
                           AND (starts_with(form_id, 'ebook-')
                                OR starts_with(form_id, 'whitepaper-'))) AS ebook_at,
        max(at_us) FILTER (WHERE type = 'form_submission'
                           AND starts_with(form_id, 'webinar-')) AS webinar_at,
        max(at_us, 2) FILTER (WHERE type = 'page_view' AND url LIKE '%/customers/%')
            AS case_study_latest,
        count(*) FILTER (WHERE type = 'page_view' AND url LIKE '%/blog/%'
                         AND at_us >= {as_of_us} - 2592000000000) AS blog_views,
        sum(floor(2.0 * decay_factor({as_of_us} - at_us) * 1000000.0 + 0.5)::BIGINT)
            FILTER (WHERE type = 'page_view' AND url LIKE '%/blog/%'
                    AND at_us >= {as_of_us} - 2592000000000) AS blog_micro_points,
        count(*) FILTER (WHERE type = 'visit' AND at_us >= {as_of_us} - 2592000000000)
            AS visits_30d,
        max(at_us, 6) FILTER (WHERE type = 'visit' AND at_us >= {as_of_us} - 2592000000000)
            AS visits_latest,
        max(at_us) FILTER (WHERE type = 'visit'
                           AND source IN ('direct', 'partner_referral')) AS direct_at,
        max(at_us) FILTER (WHERE type = 'email_click'
                           AND at_us >= {as_of_us} - 1209600000000) AS click_at,
        count(*) FILTER (WHERE type = 'email_open'
                         AND at_us >= {as_of_us} - 7776000000000) AS opens_90d,
        count(*) FILTER (WHERE type = 'email_bounce' AND lower(bounce_type) = 'hard')
            AS hard_bounces
    FROM events
    GROUP BY contact_id
),
people AS (
    SELECT contact_id, lower(job_title) AS title, employees, annual_revenue,
           lower(industry) AS industry, lower(country) AS country, lower(email) AS email,
           is_competitor, is_vendor, email_opt_out,
           CASE WHEN epoch_us(feedback_at) <= {as_of_us} THEN lower(sales_feedback) END
               AS sales_feedback,
           CASE WHEN epoch_us(feedback_at) <= {as_of_us} THEN score_adjustment END
               AS score_adjustment
    FROM read_parquet('{contacts}')
    WHERE epoch_us(created_at) <= {as_of_us}
),
points AS (
    SELECT p.contact_id,
        -- fit
        CASE WHEN p.country IN ('united states', 'united kingdom', 'germany', 'canada',
                                'france', 'netherlands') THEN 5.0 ELSE 0.0 END
        + CASE WHEN p.email LIKE '%@gmail.com' OR p.email LIKE '%@yahoo.com'
                    OR p.email LIKE '%@hotmail.com' OR p.email LIKE '%@outlook.com'
               THEN -10.0 ELSE 0.0 END
        + CASE WHEN p.is_competitor THEN -100.0 ELSE 0.0 END
        + CASE WHEN p.is_vendor THEN -50.0 ELSE 0.0 END
        + least(
            CASE WHEN regexp_matches(p.title, 'chief|ceo|cto|cmo|vp|vice president|head of|director')
                 THEN 20.0 ELSE 0.0 END
            + CASE WHEN contains(p.title, 'manager') OR contains(p.title, 'lead')
                   THEN 10.0 ELSE 0.0 END
            + CASE WHEN contains(p.title, 'student') OR contains(p.title, 'intern')
                   THEN -15.0 ELSE 0.0 END, 25.0)
        + least(
            CASE WHEN p.employees <= 9 THEN -5.0
                 WHEN p.employees BETWEEN 10 AND 49 THEN 5.0
                 WHEN p.employees BETWEEN 50 AND 999 THEN 15.0
                 WHEN p.employees >= 1000 THEN 10.0 ELSE 0.0 END
            + CASE WHEN p.annual_revenue >= 10000000 THEN 5.0 ELSE 0.0 END
            + CASE WHEN p.industry IN ('software', 'financial services', 'healthcare',
                                       'manufacturing') THEN 10.0 ELSE 0.0 END, 30.0)
            AS fit_points,
        -- engagement
        CASE WHEN a.visits_30d >= 6 THEN decayed(6.0, a.visits_latest[6])
             WHEN a.visits_30d >= 2 THEN decayed(3.0, a.visits_latest[2]) ELSE 0.0 END
        + coalesce(decayed(5.0, a.direct_at), 0.0)
        + coalesce(decayed(5.0, a.click_at), 0.0)
        + CASE WHEN coalesce(a.opens_90d, 0) = 0 THEN -5.0 ELSE 0.0 END
        + CASE WHEN p.email_opt_out THEN -40.0 ELSE 0.0 END
        + CASE WHEN a.hard_bounces > 0 THEN -20.0 ELSE 0.0 END
        + least(coalesce(decayed(60.0, a.demo_at), 0.0)
                + coalesce(decayed(15.0, a.pricing_at), 0.0)
                + coalesce(decayed(25.0, a.meeting_at), 0.0), 70.0)
        + least(coalesce(decayed(5.0, a.ebook_at), 0.0)
                + coalesce(decayed(10.0, a.webinar_at), 0.0)
                + coalesce(decayed(8.0, a.case_study_latest[2]), 0.0)
                + CASE WHEN a.blog_views > 0
                       THEN least(a.blog_micro_points::DOUBLE / 1000000.0, 10.0) ELSE 0.0 END,
                30.0)
            AS engagement_points,
        -- sales feedback
        CASE WHEN p.sales_feedback = 'unqualified' THEN -100.0 ELSE 0.0 END
        + coalesce(p.score_adjustment, 0.0) AS feedback_points
    FROM people p LEFT JOIN activity a ON a.contact_id = p.contact_id
),
scores AS (
    SELECT contact_id, round2(least(fit_points, 60.0)) AS fit,
           round2(least(engagement_points, 100.0)) AS engagement,
           round2(feedback_points) AS feedback
    FROM points
),
labelled AS (
    SELECT contact_id, fit, engagement, feedback, round2(fit + engagement + feedback) AS total,
           CASE WHEN fit >= 35 THEN 'A' WHEN fit >= 15 THEN 'B' ELSE 'C' END AS fit_label,
           CASE WHEN engagement >= 40 THEN '1' WHEN engagement >= 15 THEN '2' ELSE '3' END
               AS engagement_label
    FROM scores
)
SELECT contact_id, fit, fit_label, engagement, engagement_label, feedback, total,
       CASE WHEN total >= 65 THEN 'SQL' WHEN total >= 35 THEN 'MQL' ELSE 'Lead' END
           AS total_label,
       fit_label || engagement_label AS grade,
       CASE fit_label || engagement_label WHEN 'A1' THEN 'hot' WHEN 'A2' THEN 'warm'
            WHEN 'B1' THEN 'warm' END AS grade_label,
       CASE WHEN total >= 65 THEN 'sql' WHEN total >= 35 THEN 'mql' ELSE 'lead' END AS stage
FROM labelled
