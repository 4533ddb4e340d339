"""Demo data for the 8D (called by portal/demo.py): one closed spindle-noise complaint with a
complete 8D as a quality department files it — a team of four with its leader, the problem in
5W2H with an is/is-not table, containment with its verified effect, the 5-Why chain with the
occurrence and escape points, validation, prevention, closure signed by every member,
evidence files — verified effective with a recurrence check three months on, and the
customer-requested 8D sent to the customer's portal as a PDF."""

from __future__ import annotations

from datetime import timedelta

from werkzeug.datastructures import FileStorage

from ..extensions import db
from ..models import Action, Complaint, EffectivenessCheck, utcnow
from . import eight_d, eight_d_team

D2 = {"what": "主轴启动约 10 分钟后尖叫异响，主轴前端温升 38 ℃ Squeal after 10 min, front "
              "bearing 38 ℃ above ambient",
      "where": "客户二号车间 3 号机 Customer workshop 2, machine 3",
      "when": "2026 年 10 月批次，开机累计约 50 小时 October 2026 lot, after about 50 h",
      "who": "客户操作工发现，售后现场确认 Found by the operator, confirmed on site",
      "why": "噪声与温升超出验收标准 Noise and temperature rise beyond acceptance",
      "how": "巡检听诊及红外测温 Routine round, infrared thermometer",
      "how_many": "同批 40 台中 3 台 3 of 40 spindles of the lot",
      "is_what": "前轴承 Front bearing", "is_not_what": "电机、皮带 Motor, belt",
      "is_where": "2026-10 批次整机 Machines of the October lot",
      "is_not_where": "9 月批次 September lot",
      "is_when": "连续运行 50 小时后 After 50 h running",
      "is_not_when": "出厂试车时 At the factory run-in",
      "is_extent": "3 台，温升 35–40 ℃ 3 units, 35–40 ℃",
      "is_not_extent": "其余 37 台正常 The other 37 normal"}
WHYS = ["主轴异响且温升高 Spindle noisy and hot", "前轴承润滑不足 Front bearing short of grease",
        "装配时注脂量不足 Too little grease at assembly",
        "作业指导书未规定注脂量 The instruction gives no grease quantity",
        "工艺评审未覆盖新轴承型号 Process review missed the new bearing type"]
SECTIONS = {
    1: "跨部门 8D 小组：质量部牵头，技术部、生产部参与，总经理办公室督导。"
       " Cross-functional team led by quality, with engineering and production.",
    3: "在库 120 台主轴逐台复检振动与温升，隔离 4 台；已发货客户提供备用主轴。"
       " All 120 spindles in stock re-tested, 4 held; spare spindles for customers.",
    4: "前轴承注脂量不足导致润滑失效。 Too little grease in the front bearing.",
    5: "作业指导书增加注脂量 4.5 g 与定量注脂枪；更换 3 台客户主轴。"
       " Instruction sets 4.5 g of grease with a metered gun; 3 spindles replaced.",
    6: "新工艺执行两批共 80 台，出厂 4 小时温升试验全部合格。"
       " Two lots (80 units) built to the new instruction passed the 4 h run-in.",
    7: "同类轴承的全部机型作业指导书同步修订，纳入 PFMEA 与新员工培训。"
       " Every model with this bearing revised; PFMEA and training updated.",
    8: "8D 结案，经验教训纳入知识库，表彰装配二组。"
       " Closed; lessons in the knowledge base; assembly team 2 recognised.",
}
CONTENT = {2: D2, 4: {"occurrence_point": "装配工位 A3 注脂工序 Assembly station A3, greasing",
                      "escape_point": "出厂试车 30 分钟，未达温升稳定时间 Factory run-in of "
                                      "30 min, shorter than the time to reach temperature"},
           6: {"validation": "两批 80 台 4 小时温升试验，温升均小于 20 ℃；振动 ≤1.8 mm/s。"
                             " 80 units, 4 h run-in: rise below 20 ℃, vibration ≤ 1.8 mm/s.",
               "result": "passed"}}
SUMMARY = ("经分析，异响由前轴承装配注脂量不足引起。我们已为贵司更换 3 台主轴，修订装配作业指导书"
           "（规定注脂量并使用定量注脂枪），延长出厂试车至 4 小时；后续两批 80 台验证合格，"
           "三个月后将再次确认无复发。\nThe noise came from too little grease in the front "
           "bearing. We replaced your 3 spindles, set the grease quantity with a metered gun, "
           "extended the factory run-in to 4 hours, validated two lots of 80 units, and will "
           "check again in three months that it has not come back.")


def _file(name: str, text: str) -> FileStorage:
    import io

    return FileStorage(io.BytesIO(text.encode("utf-8")), name)


def seed(tenant, staff: dict) -> Complaint | None:
    """In the active tenant; flushes. ``staff`` maps role -> StaffUser."""
    from sqlalchemy import select

    closed = db.session.scalars(select(Complaint).where(Complaint.status == "closed")
                                .order_by(Complaint.id)).all()
    complaint = next((c for c in closed if "主轴" in c.title), closed[0] if closed else None)
    if complaint is None:
        return None
    q = staff["quality"]
    report = eight_d.start_report(complaint, q, requested_by_customer=True)
    for role, team_role, duty in (("quality", "leader", "组织分析与验证 Leads analysis"),
                                  ("technical", "member", "工艺与设计分析 Process analysis"),
                                  ("responder", "member", "执行纠正措施 Carries out actions"),
                                  ("manager", "champion", "资源与督导 Resources")):
        eight_d_team.add_member(complaint, q, staff_user_id=staff[role].id, role=team_role,
                                responsibility=duty)
    evidence = {2: [_file("振动温升测量 vibration.csv", "机号,温升℃,振动mm/s\nS03,38,4.9\n")],
                6: [_file("验证记录 validation.csv", "批次,台数,合格\n2026-11A,40,40\n")]}
    text = {2: "主轴运行约 10 分钟后异响并温升过高 Spindle squeals and runs hot after 10 min",
            **SECTIONS}
    for d in range(1, 9):
        eight_d.save_section(complaint, q, d, text=text[d], content=CONTENT.get(d),
                             customer_visible=d in (2, 3, 5), files=evidence.get(d, ()))
    _actions(complaint, staff)
    containment = db.session.scalar(select(Action).where(Action.complaint_id == complaint.id,
                                                         Action.kind == "containment"))
    if containment is not None:
        eight_d.check_containment(complaint, q, containment,
                                  effect="复检后 4 台隔离，客户现场未再报异响 4 held after re-test; "
                                         "no further noise reported on site")
    section4 = eight_d.section_of(report, 4)
    section4.content = {**section4.content, "whys": WHYS,
                        "factors": [{"category": "method", "text": "作业指导书缺注脂量 No "
                                     "grease quantity in the instruction"},
                                    {"category": "measurement", "text": "试车时间过短 Run-in "
                                     "too short"}]}
    eight_d.save_summary(complaint, q, summary=SUMMARY)
    for member in report.members:
        eight_d_team.sign_off(complaint, member.staff, member)
    _verdict(complaint, q)
    eight_d_team.send_to_customer(complaint, q)
    db.session.flush()
    return complaint


def _actions(complaint: Complaint, staff: dict) -> None:
    """The walk's measures completed with their evidence, and D7's preventive action."""
    from sqlalchemy import select

    from .casework import store_evidence

    done = utcnow() - timedelta(days=6)
    for action in db.session.scalars(select(Action).where(Action.complaint_id == complaint.id)):
        if action.done_at is None:
            action.done_at, action.result = done, "已完成 Done"
        if action.kind == "corrective" and not action.evidence:
            action.evidence = [store_evidence(complaint, _file(
                "作业指导书 A3 rev.C instruction.txt", "注脂量 4.5 g，使用定量注脂枪。\n"))]
    db.session.add(Action(
        complaint_id=complaint.id, problem_id=complaint.problem_id, kind="preventive",
        title="同类轴承全部机型修订作业指导书并更新 PFMEA Revise every model with this bearing; "
              "update the PFMEA",
        owner_id=staff["technical"].id, due_at=done + timedelta(days=2), done_at=done,
        result="5 份作业指导书与 PFMEA 已修订 5 instructions and the PFMEA revised",
        evidence=[store_evidence(complaint, _file("PFMEA 修订记录 revision.csv",
                                                  "文件,版本\nPFMEA-SP,C\n"))]))
    db.session.flush()


def _verdict(complaint: Complaint, quality) -> None:
    """The effective verdict the walk recorded, with its evidence and recurrence check."""
    from ..deadlines import recurrence
    from .casework import store_evidence

    verified = utcnow() - timedelta(days=3)
    follow_up = recurrence.months_later(verified.date())
    db.session.add(EffectivenessCheck(
        complaint_id=complaint.id, effective=True, verified_by_id=quality.id,
        verified_at=verified, follow_up_on=follow_up, follow_up_evidence=[],
        note="连续两批 80 台 4 小时试车无异响，温升 < 20 ℃。 Two lots of 80 units ran 4 h "
             "without noise, rise below 20 ℃.",
        evidence=[store_evidence(complaint, _file("两批试车记录 run-in.csv",
                                                  "批次,台数,最大温升\n2026-11A,40,18\n"
                                                  "2026-11B,40,17\n"))]))
    recurrence.schedule(complaint, follow_up, at=verified)
