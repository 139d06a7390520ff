-- The example model (src/leadscore/project/templates/model.yaml), written by hand in Spark SQL
-- over the natural Parquet layout (write_parquet.py): the same query as example_duckdb.sql,
-- with Spark's spellings (no macros: each decaying fact's factor is written out; D marks a
-- DOUBLE literal, so that no division turns DECIMAL). {contacts}, {events} and {as_of_us} are filled
-- in by the runner.

WITH events AS (
    SELECT contact_id, type, unix_micros(occurred_at) AS at_us, lower(url) AS url,
           lower(form_id) AS form_id, lower(source) AS source, lower(bounce_type) AS bounce_type
    FROM parquet.`{events}`
    WHERE unix_micros(occurred_at) <= {as_of_us}
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
                           AND (startswith(form_id, 'ebook-')
                                OR startswith(form_id, 'whitepaper-'))) AS ebook_at,
        max(at_us) FILTER (WHERE type = 'form_submission'
                           AND startswith(form_id, 'webinar-')) AS webinar_at,
        sort_array(collect_list(at_us) FILTER (WHERE type = 'page_view'
                                              AND url LIKE '%/customers/%'), false)
            AS case_studies,
        count(*) FILTER (WHERE type = 'page_view' AND url LIKE '%/blog/%'
                         AND at_us >= {as_of_us} - 2592000000000) AS blog_views,
        sum(floor(2.0D * CASE WHEN {as_of_us} - at_us <= 0 THEN 1.0D
                              WHEN {as_of_us} - at_us > 31536000000000 THEN 0.0D
                              ELSE pow(0.5D, ({as_of_us} - at_us) / 5184000000000.0D) END
                  * 1000000.0D + 0.5D))
            FILTER (WHERE type = 'page_view' AND url LIKE '%/blog/%'
                    AND at_us >= {as_of_us} - 2592000000000) AS blog_micro_points,
        count(*) FILTER (WHERE type = 'visit' AND at_us >= {as_of_us} - 2592000000000)
            AS visits_30d,
        sort_array(collect_list(at_us) FILTER (WHERE type = 'visit'
                                              AND at_us >= {as_of_us} - 2592000000000), false)
            AS visits,
        max(at_us) FILTER (WHERE type = 'visit'
                           AND source IN ('direct', 'partner_referral')) AS direct_at,
        max(at_us) FILTER (WHERE type = 'email_click'
                           AND at_us >= {as_of_us} - 1209600000000) AS click_at,
        count(*) FILTER (WHERE type = 'email_open'
                         AND at_us >= {as_of_us} - 7776000000000) AS opens_90d,
        count(*) FILTER (WHERE type = 'email_bounce' AND bounce_type = 'hard') AS hard_bounces
    FROM events
    GROUP BY contact_id
),
people AS (
    SELECT contact_id, lower(job_title) AS title, employees, annual_revenue,
           lower(industry) AS industry, lower(country) AS country, lower(email) AS email,
           is_competitor, is_vendor, email_opt_out,
           CASE WHEN unix_micros(feedback_at) <= {as_of_us} THEN lower(sales_feedback) END
               AS sales_feedback,
           CASE WHEN unix_micros(feedback_at) <= {as_of_us} THEN score_adjustment END
               AS score_adjustment
    FROM parquet.`{contacts}`
    WHERE unix_micros(created_at) <= {as_of_us}
),
ages AS (  -- the age in microseconds of the event that earned each decaying fact
    SELECT p.*, a.blog_views, a.blog_micro_points, a.visits_30d, a.opens_90d, a.hard_bounces,
        {as_of_us} - a.demo_at AS demo_age,
        {as_of_us} - a.pricing_at AS pricing_age,
        {as_of_us} - a.meeting_at AS meeting_age,
        {as_of_us} - a.ebook_at AS ebook_age,
        {as_of_us} - a.webinar_at AS webinar_age,
        {as_of_us} - try_element_at(a.case_studies, 2) AS case_studies_age,
        {as_of_us} - try_element_at(a.visits, 2) AS visits_2_age,
        {as_of_us} - try_element_at(a.visits, 6) AS visits_6_age,
        {as_of_us} - a.direct_at AS direct_age,
        {as_of_us} - a.click_at AS click_age
    FROM people p LEFT JOIN activity a ON a.contact_id = p.contact_id
),
factors AS (  -- half-life 60 days, gone after 365 (NULL: no such event)
    SELECT *,
        CASE WHEN demo_age <= 0 THEN 1.0D WHEN demo_age > 31536000000000 THEN 0.0D
             ELSE pow(0.5D, demo_age / 5184000000000.0D) END AS demo,
        CASE WHEN pricing_age <= 0 THEN 1.0D WHEN pricing_age > 31536000000000 THEN 0.0D
             ELSE pow(0.5D, pricing_age / 5184000000000.0D) END AS pricing,
        CASE WHEN meeting_age <= 0 THEN 1.0D WHEN meeting_age > 31536000000000 THEN 0.0D
             ELSE pow(0.5D, meeting_age / 5184000000000.0D) END AS meeting,
        CASE WHEN ebook_age <= 0 THEN 1.0D WHEN ebook_age > 31536000000000 THEN 0.0D
             ELSE pow(0.5D, ebook_age / 5184000000000.0D) END AS ebook,
        CASE WHEN webinar_age <= 0 THEN 1.0D WHEN webinar_age > 31536000000000 THEN 0.0D
             ELSE pow(0.5D, webinar_age / 5184000000000.0D) END AS webinar,
        CASE WHEN case_studies_age <= 0 THEN 1.0D WHEN case_studies_age > 31536000000000 THEN 0.0D
             ELSE pow(0.5D, case_studies_age / 5184000000000.0D) END AS case_studies,
        CASE WHEN visits_2_age <= 0 THEN 1.0D WHEN visits_2_age > 31536000000000 THEN 0.0D
             ELSE pow(0.5D, visits_2_age / 5184000000000.0D) END AS visits_2,
        CASE WHEN visits_6_age <= 0 THEN 1.0D WHEN visits_6_age > 31536000000000 THEN 0.0D
             ELSE pow(0.5D, visits_6_age / 5184000000000.0D) END AS visits_6,
        CASE WHEN direct_age <= 0 THEN 1.0D WHEN direct_age > 31536000000000 THEN 0.0D
             ELSE pow(0.5D, direct_age / 5184000000000.0D) END AS direct,
        CASE WHEN click_age <= 0 THEN 1.0D WHEN click_age > 31536000000000 THEN 0.0D
             ELSE pow(0.5D, click_age / 5184000000000.0D) END AS click
    FROM ages
),
points AS (
    SELECT f.contact_id,
        -- fit
        CASE WHEN f.country IN ('united states', 'united kingdom', 'germany', 'canada',
                                'france', 'netherlands') THEN 5.0D ELSE 0.0D END
        + CASE WHEN f.email LIKE '%@gmail.com' OR f.email LIKE '%@yahoo.com'
                    OR f.email LIKE '%@hotmail.com' OR f.email LIKE '%@outlook.com'
               THEN -10.0D ELSE 0.0D END
        + CASE WHEN f.is_competitor THEN -100.0D ELSE 0.0D END
        + CASE WHEN f.is_vendor THEN -50.0D ELSE 0.0D END
        + least(
            CASE WHEN f.title RLIKE 'chief|ceo|cto|cmo|vp|vice president|head of|director'
                 THEN 20.0D ELSE 0.0D END
            + CASE WHEN instr(f.title, 'manager') > 0 OR instr(f.title, 'lead') > 0
                   THEN 10.0D ELSE 0.0D END
            + CASE WHEN instr(f.title, 'student') > 0 OR instr(f.title, 'intern') > 0
                   THEN -15.0D ELSE 0.0D END, 25.0D)
        + least(
            CASE WHEN f.employees <= 9 THEN -5.0D
                 WHEN f.employees BETWEEN 10 AND 49 THEN 5.0D
                 WHEN f.employees BETWEEN 50 AND 999 THEN 15.0D
                 WHEN f.employees >= 1000 THEN 10.0D ELSE 0.0D END
            + CASE WHEN f.annual_revenue >= 10000000 THEN 5.0D ELSE 0.0D END
            + CASE WHEN f.industry IN ('software', 'financial services', 'healthcare',
                                       'manufacturing') THEN 10.0D ELSE 0.0D END, 30.0D)
            AS fit_points,
        -- engagement
        CASE WHEN f.visits_30d >= 6 THEN floor(6.0D * f.visits_6 * 1000000.0D + 0.5D)
                                         / 1000000.0D
             WHEN f.visits_30d >= 2 THEN floor(3.0D * f.visits_2 * 1000000.0D + 0.5D)
                                         / 1000000.0D
             ELSE 0.0D END
        + coalesce(floor(5.0D * f.direct * 1000000.0D + 0.5D) / 1000000.0D, 0.0D)
        + coalesce(floor(5.0D * f.click * 1000000.0D + 0.5D) / 1000000.0D, 0.0D)
        + CASE WHEN coalesce(f.opens_90d, 0) = 0 THEN -5.0D ELSE 0.0D END
        + CASE WHEN f.email_opt_out THEN -40.0D ELSE 0.0D END
        + CASE WHEN f.hard_bounces > 0 THEN -20.0D ELSE 0.0D END
        + least(coalesce(floor(60.0D * f.demo * 1000000.0D + 0.5D) / 1000000.0D, 0.0D)
                + coalesce(floor(15.0D * f.pricing * 1000000.0D + 0.5D) / 1000000.0D,
                           0.0D)
                + coalesce(floor(25.0D * f.meeting * 1000000.0D + 0.5D) / 1000000.0D,
                           0.0D), 70.0D)
        + least(coalesce(floor(5.0D * f.ebook * 1000000.0D + 0.5D) / 1000000.0D, 0.0D)
                + coalesce(floor(10.0D * f.webinar * 1000000.0D + 0.5D) / 1000000.0D,
                           0.0D)
                + coalesce(floor(8.0D * f.case_studies * 1000000.0D + 0.5D)
                           / 1000000.0D, 0.0D)
                + CASE WHEN f.blog_views > 0
                       THEN least(f.blog_micro_points / 1000000.0D, 10.0D) ELSE 0.0D END,
                30.0D)
            AS engagement_points,
        -- sales feedback
        CASE WHEN f.sales_feedback = 'unqualified' THEN -100.0D ELSE 0.0D END
        + coalesce(f.score_adjustment, 0.0D) AS feedback_points
    FROM factors f
),
scores AS (
    SELECT contact_id,
           floor(least(fit_points, 60.0D) * 100.0D + 0.5D) / 100.0D AS fit,
           floor(least(engagement_points, 100.0D) * 100.0D + 0.5D) / 100.0D AS engagement,
           floor(feedback_points * 100.0D + 0.5D) / 100.0D AS feedback
    FROM points
),
labelled AS (
    SELECT contact_id, fit, engagement, feedback,
           floor((fit + engagement + feedback) * 100.0D + 0.5D) / 100.0D AS total,
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
