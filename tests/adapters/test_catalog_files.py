"""The catalog files of the repository, as the sources say, and how a broken file is reported."""
import re
import shutil
from pathlib import Path

import pytest

from workflows.adapters.catalog_files import load_catalog, read_documents
from workflows.domain.catalog import CatalogError, TimeLimit, parse_catalog

CATALOG_DIR = Path(__file__).resolve().parents[2] / "catalog"
FUSHUN, LINKOU, WENSHANG, SICHUAN = "210400", "231025", "370830", "510000"
EMPLOYEE_REGISTRATION = "00203601002"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(CATALOG_DIR)


def test_the_real_catalog_loads(catalog):
    assert set(catalog.agencies) == {FUSHUN, LINKOU, WENSHANG, SICHUAN}
    assert len(catalog.items) == 36
    assert {code: len(agency.items) for code, agency in catalog.agencies.items()} == {
        FUSHUN: 24, LINKOU: 29, WENSHANG: 3, SICHUAN: 13}


def test_national_item_codes(catalog):
    for code, item in catalog.items.items():
        assert re.fullmatch(r"[0-9A-Z]+", code)
        assert item.process_key == f"item_{code}"
        assert item.code_is_local == code.startswith("L")
    assert catalog.item("L00029").name == "城镇职工医疗保险、生育保险缴费基数核定"
    assert catalog.item("L00030").name == "医疗保险费核定"
    assert catalog.item("L00031").name == "异地临时就医人员备案"
    assert catalog.item("002036009001").stages == ("申请", "受理", "验收", "签订协议", "办结")
    assert catalog.item("002036002002").stages == ("申请", "受理", "办结")
    assert catalog.item("002036003002").partner_process_key == "item_002036003002_out"


def test_fushun_has_its_ten_halls_and_hours(catalog):
    fushun = catalog.agency(FUSHUN)
    assert len(fushun.halls) == 10
    assert fushun.hall("210400-06").name == "抚顺市医疗保障事务服务中心 李石分中心"
    assert [f"{start:%H:%M}-{end:%H:%M}" for start, end in fushun.office_hours] == ["08:30-11:30", "13:00-17:00"]
    assert (fushun.consult_phone, fushun.complaint_phone, fushun.petition_phone) == (
        "024-55883333", "024-55883333", "53997899")
    assert fushun.item(EMPLOYEE_REGISTRATION).hall_codes == tuple(hall.code for hall in fushun.halls)


def test_employee_registration_limit_differs_by_agency(catalog):
    limits = {code: agency.item(EMPLOYEE_REGISTRATION).promised_limit.label
              for code, agency in catalog.agencies.items()}
    assert limits == {FUSHUN: "5个工作日", LINKOU: "即时办结", WENSHANG: "即时办结", SICHUAN: "3个工作日"}
    assert catalog.agency(WENSHANG).item(EMPLOYEE_REGISTRATION).name == "职工基本医疗保险参保登记"


def test_linkou_outpatient_reimbursement(catalog):
    outpatient = catalog.agency(LINKOU).item("002036006001")
    assert outpatient.promised_limit == TimeLimit(20, "working_days")
    assert outpatient.phones == ("0453-3527166",)
    assert outpatient.hall_codes == ("231025-02",)
    assert [m.name for m in outpatient.materials if not m.required] == ["病历复印件", "诊断证明", "银行卡号"]


def test_linkou_items_follow_its_table(catalog):
    linkou = catalog.agency(LINKOU)
    assert linkou.item("002036007004").promised_limit.label == "20个工作日"  # 生育津贴; 抚顺 says 30
    assert catalog.agency(FUSHUN).item("002036007004").promised_limit.label == "30个工作日"
    assert linkou.item("002036005000").hall_codes == ("231025-03",)  # 县医院医保科
    assert linkou.item("L00029").promised_limit.label == "5个工作日"
    transfer = linkou.item("002036003002")
    assert [(s.stage, s.limit.label, s.starts_at) for s in transfer.stage_limits] == [
        ("联系函", "5个工作日", "受理"), ("信息表", "10个工作日", "联系函"), ("办结", "5个工作日", "信息表")]


def test_designation_items_have_their_long_limits(catalog):
    for code in ("002036009001", "002036009002"):  # 医疗机构 / 零售药店申请定点协议管理
        linkou_item = catalog.agency(LINKOU).item(code)
        assert linkou_item.promised_limit.label == "30个工作日"
        assert linkou_item.exceptional_limit.label == "3个月"
        assert linkou_item.stage_limits[0].stage == "验收"
        assert catalog.agency(FUSHUN).item(code).promised_limit.label == "3个月"


def test_fushun_waivable_materials(catalog):
    fushun = catalog.agency(FUSHUN)
    assert fushun.waiver_period == TimeLimit(20, "working_days")
    for code in ("002036007002", "002036007003", "002036007004"):  # 生育待遇
        assert [m.name for m in fushun.item(code).waivable_materials] == ["结婚证", "生育登记单", "医保卡复印件"]
    assert [m.name for m in fushun.item("002036009002").waivable_materials] == [
        "药店地理位置及平面图原件", "上半年注册药店所有人员工资发放明细表"]
    assert [m.name for m in fushun.item("002036006002").waivable_materials] == ["医保卡复印件"]
    assert fushun.item(EMPLOYEE_REGISTRATION).waivable_materials == ()


def test_fushun_prohibited_cases(catalog):
    fushun = catalog.agency(FUSHUN)
    assert len(fushun.item("002036007004").prohibited) == 3
    assert fushun.item("002036003001").prohibited == ("医保欠费",)
    assert fushun.item("002036005000").hall_codes == ()  # decided at a 三甲 hospital


def test_read_documents_keys_are_relative(catalog):
    items, agencies, templates = read_documents(CATALOG_DIR)
    assert sorted(agencies) == [f"agencies/{code}.yaml" for code in (FUSHUN, LINKOU, WENSHANG, SICHUAN)]
    assert parse_catalog(items, agencies, templates_document=templates) == catalog


# --- broken files -------------------------------------------------------------------------------------------------

@pytest.fixture
def copy_dir(tmp_path):
    target = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, target)
    return target


def test_yaml_syntax_error_names_file_and_line(copy_dir):
    path = copy_dir / "agencies" / "370830.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4] + " ["
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(CatalogError) as raised:
        load_catalog(copy_dir)
    assert raised.value.file == str(path)
    assert re.match(r"line \d+, column \d+", raised.value.field)
    assert "YAML syntax error" in raised.value.message


def test_a_key_given_twice_is_an_error(copy_dir):
    path = copy_dir / "agencies" / "370830.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("  short_name: 汶上县医保中心\n", "  short_name: 汶上县医保中心\n  short_name: 汶上\n"),
                    encoding="utf-8")
    expected = r"370830\.yaml: line 8, column 3: YAML syntax error: duplicate key 'short_name'"
    with pytest.raises(CatalogError, match=expected):
        load_catalog(copy_dir)


def test_a_field_error_names_the_file_under_the_directory(copy_dir):
    path = copy_dir / "agencies" / "231025.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("promised_limit: {value: 20, unit: working_days}",
                                 "promised_limit: {value: 20, unit: days}", 1), encoding="utf-8")
    with pytest.raises(CatalogError) as raised:
        load_catalog(copy_dir)
    assert str(raised.value) == (f"{path}: items[10].promised_limit.unit: "
                                 "'days' is not one of immediate, working_days, natural_days, months")


def test_an_unquoted_code_is_reported(copy_dir):
    path = copy_dir / "agencies" / "370830.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('- code: "00203601004"', "- code: 00203601004"), encoding="utf-8")
    expected = r"items\[2\]\.code: expected a string, got an integer .* \(put it in quotes\)"
    with pytest.raises(CatalogError, match=expected):
        load_catalog(copy_dir)


def test_agency_file_must_be_named_after_its_code(copy_dir):
    (copy_dir / "agencies" / "370830.yaml").rename(copy_dir / "agencies" / "370800.yaml")
    with pytest.raises(CatalogError, match=r"370800\.yaml: agency\.code: '370830' does not match the file name"):
        load_catalog(copy_dir)


def test_missing_items_file(copy_dir):
    (copy_dir / "items.yaml").unlink()
    with pytest.raises(CatalogError, match=r"items\.yaml: \(file\): not found"):
        load_catalog(copy_dir)
