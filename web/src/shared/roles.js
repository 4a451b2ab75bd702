// The lane names our engine reads as roles (docs/bpmn-conventions.md, "Lanes are roles").
export const ROLES = [
  { name: '受理员', code: 'acceptor' },
  { name: '审核员', code: 'reviewer' },
  { name: '财务', code: 'finance' },
  { name: '科室负责人', code: 'supervisor' },
  { name: '定点医院', code: 'hospital' },
];

// The words of the items' 办理环节 (a stage limit's name is a stage too).
export const STAGES = ['受理', '审核', '拨付', '验收', '签订协议', '办结', '督办'];
