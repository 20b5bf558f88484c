# SPDX-License-Identifier: MIT
# arch/x86/svm: nested SVM.
include_nest_HEADERS += include/nest/vmcb-fields.def
