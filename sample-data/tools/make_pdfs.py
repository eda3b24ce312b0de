#!/usr/bin/env python3
"""Generate the PDF documents of the Rosterly sample knowledge base.

Standard library only. Writes minimal but valid PDF 1.4 files: one page object
per page, text drawn with the standard Type 1 fonts Helvetica and
Helvetica-Bold (WinAnsiEncoding), a correct cross-reference table and an /Info
dictionary with /Title. Output is deterministic (fixed dates, no compression).

Usage:  python3 sample-data/tools/make_pdfs.py
"""
import os
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(HERE, "..", "docs")

PAGE_W, PAGE_H = 612, 792          # US Letter, points
LEFT, TOP, BOTTOM = 72, 730, 80
BODY_SIZE, LEADING = 10, 13
WRAP = 90                          # characters per body line

# ---------------------------------------------------------------------------
# Document content. Block types: ("h1", text), ("h2", text), ("p", text),
# ("li", text) for a bullet, ("row", label, text) for a two-column row.
# ---------------------------------------------------------------------------

WHITEPAPER = {
    "path": "security/rosterly-security-whitepaper.pdf",
    "title": "Rosterly Security Whitepaper",
    "subject": "Technical and organisational security measures of the Rosterly platform",
    "keywords": "security,whitepaper,encryption,compliance,disaster-recovery",
    "category": "security",
    "product_version": "5.0",
    "last_updated": "2026-01-12",
    "date": "D:20260112090000Z",
    "blocks": [
        ("h1", "Rosterly Security Whitepaper"),
        ("p", "Version 5.0 - January 2026. Published by Rosterly Inc., 1200 Harbor Street, Suite 400, "
              "Portland, OR 97209, USA. This document describes the technical and organisational "
              "measures that protect customer data in the Rosterly team-scheduling platform. It is "
              "intended for IT, security and procurement teams evaluating Rosterly."),
        ("h2", "1. Overview"),
        ("p", "Rosterly is a multi-tenant software-as-a-service application for shift scheduling, time "
              "and attendance, time-off management and team messaging. Customers store personal data "
              "about their employees in Rosterly, including names, contact details, schedules, clock-in "
              "records with location data, and wage rates. Our security program is built on three "
              "principles: least privilege, defence in depth and transparency towards customers."),
        ("p", "The security program is owned by the Chief Information Security Officer (CISO), who "
              "reports to the CEO and presents to the board of directors every quarter. A dedicated "
              "security team of six engineers covers application security, infrastructure security "
              "and detection and response."),
        ("h2", "2. Compliance and certifications"),
        ("li", "SOC 2 Type II: audited annually by an independent CPA firm against the Security, "
               "Availability and Confidentiality trust services criteria. The latest report covers the "
               "period 1 January to 31 December 2025."),
        ("li", "ISO/IEC 27001:2022: certified since November 2025, covering all Rosterly products and "
               "the supporting corporate functions. Surveillance audits take place every year."),
        ("li", "GDPR and UK GDPR: Rosterly acts as a processor and offers a Data Processing Agreement "
               "with the EU Standard Contractual Clauses on every plan."),
        ("li", "CCPA/CPRA: Rosterly acts as a service provider for California customers."),
        ("p", "SOC 2 reports and penetration test summaries are available to Pro and Enterprise "
              "customers under NDA through the Trust Center at trust.rosterly.com."),
        ("h2", "3. Hosting and infrastructure"),
        ("p", "Rosterly runs entirely on Amazon Web Services (AWS). Production workloads for US "
              "workspaces run in the us-east-1 region (N. Virginia). Enterprise customers with EU data "
              "residency are hosted in eu-central-1 (Frankfurt). Each region uses three availability "
              "zones; the database runs with a synchronous standby in a second zone and fails over "
              "automatically in less than two minutes."),
        ("p", "Backups are replicated to a separate disaster-recovery region in the same jurisdiction: "
              "us-west-2 (Oregon) for US workspaces and eu-west-1 (Ireland) for EU workspaces. EU "
              "customer data therefore never leaves the European Union, including in backups."),
        ("p", "Production infrastructure is defined as code and deployed through an automated pipeline. "
              "Manual changes to production are not permitted. Servers are immutable containers that "
              "are rebuilt at least weekly with current operating system patches. Network access is "
              "restricted by security groups; databases are reachable only from the application tier "
              "and never from the internet. A web application firewall and DDoS protection sit in front "
              "of all public endpoints."),
        ("h2", "4. Encryption"),
        ("li", "In transit: all connections use TLS 1.2 or TLS 1.3 with modern cipher suites. HTTP "
               "Strict Transport Security (HSTS) is enabled with a one-year max-age. Internal traffic "
               "between services is also encrypted with TLS."),
        ("li", "At rest: databases, backups, file attachments and logs are encrypted with AES-256. "
               "Encryption keys are managed in AWS Key Management Service (KMS) and rotated every year."),
        ("li", "Field-level encryption: wage rates, kiosk PINs and integration credentials (such as "
               "payroll OAuth tokens) are additionally encrypted at the application level with "
               "per-workspace data keys."),
        ("li", "Secrets: personal API tokens and SCIM tokens are stored only as SHA-256 hashes and can "
               "never be displayed again after creation. User passwords are hashed with bcrypt "
               "(cost factor 12)."),
        ("h2", "5. Application security"),
        ("p", "Rosterly follows a secure software development lifecycle. Every code change is reviewed "
              "and approved by at least one engineer other than the author before it can be merged, and "
              "changes to authentication, billing or permission code additionally require approval from "
              "the security team. Automated checks run on every change: static analysis (SAST), "
              "dependency vulnerability scanning and secret scanning. Critical dependency "
              "vulnerabilities must be fixed within 7 days, high ones within 30 days."),
        ("p", "An independent security firm performs a full penetration test of the web application, "
              "mobile apps and API at least once a year and after every major release. Rosterly also "
              "runs a private bug bounty program with rewards of up to $5,000 per valid finding. "
              "Security researchers can report issues to security@rosterly.com; we acknowledge reports "
              "within 2 business days."),
        ("p", "Tenant isolation is enforced in the data access layer: every query is scoped to a "
              "workspace identifier derived from the authenticated session, and automated tests verify "
              "that no endpoint returns data across workspaces."),
        ("h2", "6. Access control for Rosterly staff"),
        ("li", "Staff sign in to internal systems with single sign-on and phishing-resistant hardware "
               "security keys. Passwords alone are never sufficient."),
        ("li", "Access to production systems is granted just in time, for a maximum of 8 hours, after "
               "approval by a second engineer. All sessions are recorded."),
        ("li", "Support staff can view a customer workspace only after the customer grants support "
               "access from the help widget. Support access expires after 72 hours."),
        ("li", "Access rights are reviewed every quarter. Access is revoked within 24 hours when an "
               "employee leaves the company."),
        ("li", "All employees pass a background check before starting (where permitted by law), sign a "
               "confidentiality agreement and complete security awareness training every year."),
        ("h2", "7. Business continuity and disaster recovery"),
        ("p", "Rosterly takes daily encrypted snapshots of all databases and continuously ships "
              "transaction logs, which allows point-in-time recovery. Backups are retained for 35 days. "
              "Our recovery objectives are a Recovery Point Objective (RPO) of 1 hour and a Recovery "
              "Time Objective (RTO) of 4 hours for a complete regional outage. Disaster recovery "
              "procedures, including a full restore into the disaster-recovery region, are tested twice "
              "a year, and backup restores are tested automatically every week."),
        ("h2", "8. Monitoring, logging and incident response"),
        ("p", "Infrastructure, application and security logs are collected centrally and retained for "
              "1 year. Alerts from intrusion detection, anomaly detection and uptime monitoring go to an "
              "on-call engineer 24 hours a day, 7 days a week. The incident response plan defines "
              "severity levels, roles and communication templates, and is exercised in a tabletop "
              "exercise every six months."),
        ("p", "If a security incident results in a personal data breach affecting customer data, "
              "Rosterly notifies the affected workspace Owner and the signatory of the Data Processing "
              "Agreement without undue delay and within 48 hours of becoming aware of it. Service "
              "incidents are published on status.rosterly.com."),
        ("h2", "9. Vendor management"),
        ("p", "Sub-processors are assessed before onboarding and reviewed every year, including a "
              "review of their SOC 2 or ISO 27001 reports. Sub-processors are bound by data protection "
              "terms at least as protective as our DPA. The current list of sub-processors is published "
              "at rosterly.com/legal/subprocessors, and customers are notified 30 days before a new "
              "sub-processor is added."),
        ("h2", "10. Security features for customers"),
        ("li", "Two-factor authentication with authenticator apps (TOTP) and, since Rosterly 5.0, "
               "FIDO2/WebAuthn security keys and passkeys. Admins can require 2FA for all users."),
        ("li", "SAML 2.0 single sign-on with Okta and Microsoft Entra ID, and SCIM 2.0 user "
               "provisioning (Enterprise)."),
        ("li", "Role-based access with four roles (Owner, Admin, Manager, Employee) and location- and "
               "department-scoped managers."),
        ("li", "Audit log of sign-ins, permission changes, exports and API token use: 90 days on Pro, "
               "2 years on Enterprise."),
        ("li", "Configurable session lifetimes and IP allow-listing for web sign-ins (Enterprise)."),
        ("li", "Geofenced clock-in and optional kiosk photo capture to prevent time theft."),
        ("h2", "11. Contact"),
        ("p", "Questions about this whitepaper can be sent to security@rosterly.com. Enterprise "
              "customers can also contact their Customer Success Manager to arrange a call with the "
              "security team or to request a completed security questionnaire (CAIQ or SIG Lite)."),
    ],
}

SLA = {
    "path": "security/enterprise-service-level-agreement.pdf",
    "title": "Rosterly Enterprise Service Level Agreement",
    "subject": "Uptime commitment, service credits and support response times for Enterprise customers",
    "keywords": "sla,uptime,service-credits,support,enterprise",
    "category": "security",
    "product_version": "5.0",
    "last_updated": "2026-01-05",
    "date": "D:20260105090000Z",
    "blocks": [
        ("h1", "Rosterly Enterprise Service Level Agreement"),
        ("p", "Version 2026-01, effective 1 January 2026. This Service Level Agreement (SLA) is part of "
              "the Enterprise subscription agreement between Rosterly Inc. and the customer. It applies "
              "only to workspaces on the Enterprise plan. Free, Starter and Pro plans do not include a "
              "contractual uptime commitment."),
        ("h2", "1. Definitions"),
        ("row", "Service", "The Rosterly web application at app.rosterly.com, the REST API at "
                "api.rosterly.com and the mobile app back end."),
        ("row", "Downtime", "Any minute in which more than 5% of requests to the Service fail with a "
                "server error or time out, as measured by Rosterly's external monitoring from three "
                "geographic regions."),
        ("row", "Monthly Uptime Percentage", "The total minutes in a calendar month minus Downtime "
                "minutes, divided by the total minutes in the month, excluding Excluded Downtime."),
        ("row", "Service Credit", "A percentage of the monthly subscription fee for the affected month, "
                "credited to the customer's account."),
        ("h2", "2. Uptime commitment"),
        ("p", "Rosterly will use commercially reasonable efforts to make the Service available with a "
              "Monthly Uptime Percentage of at least 99.95% in every calendar month. Current and "
              "historical availability is published at status.rosterly.com."),
        ("h2", "3. Service credits"),
        ("p", "If the Monthly Uptime Percentage falls below the commitment, the customer is eligible "
              "for the following Service Credits:"),
        ("row", "99.5% to less than 99.95%", "10% of the monthly fee"),
        ("row", "99.0% to less than 99.5%", "25% of the monthly fee"),
        ("row", "Less than 99.0%", "50% of the monthly fee"),
        ("p", "Service Credits for a month are capped at 50% of that month's fee. For annual "
              "subscriptions, the monthly fee is one twelfth of the annual fee. Service Credits are "
              "applied to the next invoice and are not paid out in cash, except when the subscription "
              "ends and no further invoices will be issued. Service Credits are the customer's sole "
              "remedy for unavailability, except as described in section 7."),
        ("h2", "4. Requesting a Service Credit"),
        ("p", "To receive a Service Credit, the customer must submit a claim within 30 days after the "
              "end of the month in which the Downtime occurred. Claims are sent to the customer's "
              "Customer Success Manager or to support@rosterly.com with the subject line "
              "\"SLA credit request\", and must include the workspace name and the dates and times of "
              "the Downtime. Rosterly confirms or rejects the claim within 10 business days."),
        ("h2", "5. Exclusions"),
        ("p", "The following is Excluded Downtime and does not count against the uptime commitment:"),
        ("li", "Scheduled maintenance announced at least 72 hours in advance on status.rosterly.com. "
               "Scheduled maintenance takes place on Sundays between 02:00 and 06:00 UTC and is limited "
               "to 4 hours per calendar month. Maintenance beyond 4 hours in a month counts as Downtime."),
        ("li", "Unavailability caused by the customer, its users or its systems, including API usage "
               "above the agreed rate limits."),
        ("li", "Outages of third-party services that the customer connects to Rosterly, such as Slack, "
               "Microsoft Teams, Gusto, ADP, QuickBooks, Square or the customer's identity provider."),
        ("li", "Features labelled as beta or preview."),
        ("li", "Suspension of the workspace for non-payment or breach of the agreement."),
        ("li", "Events beyond Rosterly's reasonable control (force majeure), such as natural disasters "
               "or widespread internet failures not caused by Rosterly or its hosting provider."),
        ("p", "Emergency maintenance to fix a critical security vulnerability counts as Downtime unless "
              "it is completed within a scheduled maintenance window."),
        ("h2", "6. Support response times"),
        ("p", "Enterprise customers receive 24/7 support for Severity 1 issues by phone and email, and "
              "business-hours support (Monday to Friday, 6:00-18:00 US Pacific Time) for other issues. "
              "Rosterly will respond within the following times:"),
        ("row", "Severity 1 - Critical", "Service unavailable or data loss for all users. First response "
                "within 1 hour, 24/7. Status updates at least every 2 hours until resolved."),
        ("row", "Severity 2 - High", "A core function (scheduling, time clock, payroll export) is "
                "impaired with no workaround. First response within 4 business hours."),
        ("row", "Severity 3 - Normal", "A feature does not work as documented but a workaround exists. "
                "First response within 1 business day."),
        ("row", "Severity 4 - Low", "Questions, how-to requests and feature requests. First response "
                "within 3 business days."),
        ("p", "Each Enterprise customer has a named Customer Success Manager who holds a service review "
              "with the customer every quarter."),
        ("h2", "7. Chronic unavailability"),
        ("p", "If the Monthly Uptime Percentage is below 99.0% in three consecutive calendar months, the "
              "customer may terminate the Enterprise subscription by written notice within 30 days "
              "after the third month, without penalty. Rosterly will refund any prepaid fees for the "
              "period after termination."),
        ("h2", "8. Data protection and recovery"),
        ("p", "Rosterly maintains backups and disaster recovery procedures with a Recovery Point "
              "Objective (RPO) of 1 hour and a Recovery Time Objective (RTO) of 4 hours, as described "
              "in the Rosterly Security Whitepaper."),
        ("h2", "9. Changes to this SLA"),
        ("p", "Rosterly may update this SLA with 90 days' written notice. Changes never reduce the "
              "uptime commitment or Service Credits during the customer's current subscription term."),
    ],
}

DOCUMENTS = [WHITEPAPER, SLA]


def pdf_escape(s):
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def layout(blocks):
    """Turn blocks into lines: (font, size, x_indent, text, extra_space_before)."""
    lines = []
    for block in blocks:
        kind = block[0]
        if kind == "h1":
            lines.append(("F2", 18, 0, block[1], 0))
            lines.append(None)  # blank
        elif kind == "h2":
            lines.append(None)
            lines.append(("F2", 12, 0, block[1], 0))
        elif kind == "p":
            for w in textwrap.wrap(block[1], WRAP):
                lines.append(("F1", BODY_SIZE, 0, w, 0))
            lines.append(None)
        elif kind == "li":
            wrapped = textwrap.wrap(block[1], WRAP - 4)
            for i, w in enumerate(wrapped):
                lines.append(("F1", BODY_SIZE, 0 if i == 0 else 12, ("- " if i == 0 else "") + w, 0))
        elif kind == "row":
            lines.append(("F2", BODY_SIZE, 0, block[1] + ":", 0))
            for w in textwrap.wrap(block[2], WRAP - 4):
                lines.append(("F1", BODY_SIZE, 12, w, 0))
        else:
            raise ValueError(kind)
    return lines


def line_height(line):
    if line is None:
        return LEADING
    size = line[1]
    return LEADING if size <= BODY_SIZE else 4 + size + 6


def paginate(lines):
    """Split lines into pages by vertical space (TOP..BOTTOM), about 50 body lines a page."""
    pages, current, used = [], [], 0
    room = TOP - BOTTOM
    for line in lines:
        if line is None and not current:
            continue  # no blank line at the top of a page
        h = line_height(line)
        need = h + (2 * LEADING if line is not None and line[1] > BODY_SIZE else 0)
        if used + need > room:
            while current and current[-1] is None:
                current.pop()
            pages.append(current)
            current, used = [], 0
            if line is None:
                continue
        current.append(line)
        used += h
    while current and current[-1] is None:
        current.pop()
    if current:
        pages.append(current)
    return pages


def content_stream(page_lines, footer):
    out = []
    y = TOP
    for line in page_lines:
        if line is None:
            y -= LEADING
            continue
        font, size, indent, text, _ = line
        if size > BODY_SIZE:
            y -= 4
        out.append("BT /%s %d Tf %d %d Td (%s) Tj ET" % (font, size, LEFT + indent, y, pdf_escape(text)))
        y -= LEADING if size <= BODY_SIZE else size + 6
    out.append("BT /F1 8 Tf %d %d Td (%s) Tj ET" % (LEFT, 40, pdf_escape(footer)))
    return ("\n".join(out) + "\n").encode("latin-1")


def build_pdf(doc):
    pages = paginate(layout(doc["blocks"]))
    n = len(pages)
    objects = {}  # number -> bytes
    # 1 catalog, 2 pages, 3 F1, 4 F2, 5 info, then page/content pairs
    page_nums = [6 + 2 * i for i in range(n)]
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    kids = " ".join("%d 0 R" % p for p in page_nums)
    objects[2] = ("<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n)).encode()
    objects[3] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    objects[4] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
    info = "<< /Title (%s) /Author (Rosterly Inc.) /Subject (%s) /Keywords (%s) " \
           "/Creator (make_pdfs.py) /Producer (Rosterly sample-data tools) /CreationDate (%s) /ModDate (%s) >>" % (
               pdf_escape(doc["title"]), pdf_escape(doc["subject"]), pdf_escape(doc["keywords"]),
               doc["date"], doc["date"])
    objects[5] = info.encode("latin-1")
    for i, lines in enumerate(pages):
        pnum, cnum = page_nums[i], page_nums[i] + 1
        footer = "%s  |  Page %d of %d  |  (c) 2026 Rosterly Inc." % (doc["title"], i + 1, n)
        stream = content_stream(lines, footer)
        objects[pnum] = ("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] "
                         "/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %d 0 R >>"
                         % (PAGE_W, PAGE_H, cnum)).encode()
        objects[cnum] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream"
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n"
    xref_pos = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n" % size
    out += b"0000000000 65535 f \n"
    for num in range(1, size):
        out += b"%010d 00000 n \n" % offsets[num]
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 5 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref_pos)
    return bytes(out), n


def main():
    for doc in DOCUMENTS:
        data, n = build_pdf(doc)
        path = os.path.normpath(os.path.join(DOCS, doc["path"]))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        print("wrote %s (%d pages, %d bytes)" % (os.path.relpath(path), n, len(data)))


if __name__ == "__main__":
    main()
