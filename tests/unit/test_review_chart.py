"""The review and outreach pages' chart: an SVG whose title and description are elements a screen reader
reads, not text shown on the page."""
import xml.etree.ElementTree as ET

from desk.review import bar_chart

SVG = "{http://www.w3.org/2000/svg}"


def test_the_chart_has_its_title_and_description_as_elements():
    days = [("2026-12-03", 4, 1), ("2026-12-04", 2, 0)]
    svg = ET.fromstring(str(bar_chart(days, "Calls & texts <per day>")).replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1))
    assert svg.find(f"{SVG}title").text == "Calls & texts <per day>"
    desc = svg.find(f"{SVG}desc")
    assert desc.get("id") == "chart-desc"
    assert desc.text == "2026-12-03: 4 conversations, 1 handed off; 2026-12-04: 2 conversations, 0 handed off"
    # nothing of the markup is left as text for the page to show
    assert "<desc" not in "".join(svg.itertext()) and "&lt;" not in str(bar_chart(days, "t"))
    assert [t.text for t in svg.iter(f"{SVG}text")] == ["12-03", "4", "12-04", "2"]
