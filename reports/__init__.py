"""Consolidated reports of a cycle, per district, province and the country (xlsx and html).

- `reports.render.write_reports(settings, cycle)`: every report of a cycle and its index.
- `reports.load`: the marts the reports read (all SQL in one place) -> `reports.model.ReportData`.
- `reports.xlsx.write_xlsx` / `reports.html.write_html`: one report in each format.
- `reports.suppress`: what is withheld from published reports (sensitive small commune counts).
"""
