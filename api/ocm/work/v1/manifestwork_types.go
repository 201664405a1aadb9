/*
Copyright 2026 The ycloud Authors.

SPDX-License-Identifier: Apache-2.0
*/

package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// ManifestWork is a set of Kubernetes objects the hub wants applied on one managed cluster.
// It lives in the cluster's namespace on the hub (the namespace is named after the
// ManagedCluster); the work agent of that cluster applies the manifests and reports back
// through Status.
//
// Rules the CRD does not enforce but a real hub's webhook does: at least one manifest, every
// manifest has metadata.name (no generateName), and the manifests total at most 500 KiB.
//
// +kubebuilder:object:root=true
type ManifestWork struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is what the hub wants on the managed cluster.
	Spec ManifestWorkSpec `json:"spec,omitempty"`
	// Status is written by the work agent, through the status subresource only.
	Status ManifestWorkStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ManifestWorkList is a list of ManifestWorks.
type ManifestWorkList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ManifestWork `json:"items"`
}

// ManifestWorkSpec is the desired content of a ManifestWork.
type ManifestWorkSpec struct {
	// Workload holds the manifests to apply.
	Workload ManifestsTemplate `json:"workload,omitempty"`
	// DeleteOption says what happens to applied objects when the work is deleted (and when a
	// manifest is dropped from it). Nil means Foreground.
	DeleteOption *DeleteOption `json:"deleteOption,omitempty"`
	// ManifestConfigs tune single manifests: feedback rules, update strategy, condition rules.
	ManifestConfigs []ManifestConfigOption `json:"manifestConfigs,omitempty"`
	// Executor is the identity the agent acts as on the managed cluster. Nil means the agent's own.
	Executor *ManifestWorkExecutor `json:"executor,omitempty"`
}

// ManifestsTemplate holds the manifests of a work.
type ManifestsTemplate struct {
	// Manifests are complete Kubernetes objects (apiVersion, kind, metadata, ...). Set Raw
	// (JSON bytes): RawExtension.Object is not serialised by the JSON encoder.
	Manifests []runtime.RawExtension `json:"manifests,omitempty"`
}

// DeletePropagationPolicyType is spec.deleteOption.propagationPolicy.
type DeletePropagationPolicyType string

const (
	// DeletePropagationPolicyTypeForeground deletes applied objects and keeps the work until
	// they are gone. It is the default.
	DeletePropagationPolicyTypeForeground DeletePropagationPolicyType = "Foreground"
	// DeletePropagationPolicyTypeOrphan leaves applied objects on the managed cluster.
	DeletePropagationPolicyTypeOrphan DeletePropagationPolicyType = "Orphan"
	// DeletePropagationPolicyTypeSelectivelyOrphan orphans only the objects matched by
	// SelectivelyOrphan.OrphaningRules and deletes the rest.
	DeletePropagationPolicyTypeSelectivelyOrphan DeletePropagationPolicyType = "SelectivelyOrphan"
)

// DeleteOption is spec.deleteOption.
type DeleteOption struct {
	// PropagationPolicy defaults to Foreground (the CRD defaults it on the server).
	PropagationPolicy DeletePropagationPolicyType `json:"propagationPolicy,omitempty"`
	// SelectivelyOrphan lists what to keep when PropagationPolicy is SelectivelyOrphan.
	SelectivelyOrphan *SelectivelyOrphan `json:"selectivelyOrphans,omitempty"`
	// TTLSecondsAfterFinished deletes the work that long after its condition rules report
	// it Complete.
	TTLSecondsAfterFinished *int64 `json:"ttlSecondsAfterFinished,omitempty"`
}

// SelectivelyOrphan is spec.deleteOption.selectivelyOrphans.
type SelectivelyOrphan struct {
	OrphaningRules []OrphaningRule `json:"orphaningRules,omitempty"`
}

// OrphaningRule names one object of the work that survives its deletion.
type OrphaningRule struct {
	// Group is the API group; empty is the core group.
	Group string `json:"group,omitempty"`
	// Resource is the plural resource name, for example "configmaps".
	Resource string `json:"resource"`
	// Namespace is empty for cluster-scoped objects.
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// ResourceIdentifier selects one object of the work by group, resource (plural), namespace and
// name. Rules keyed by an identifier that matches no manifest of the work are ignored.
type ResourceIdentifier struct {
	// Group is the API group; empty is the core group.
	Group string `json:"group,omitempty"`
	// Resource is the plural resource name, for example "vpcs".
	Resource string `json:"resource"`
	Name     string `json:"name"`
	// Namespace is empty for cluster-scoped objects.
	Namespace string `json:"namespace,omitempty"`
}

// ManifestConfigOption configures how one manifest is applied and what is reported about it.
type ManifestConfigOption struct {
	ResourceIdentifier ResourceIdentifier `json:"resourceIdentifier"`
	// FeedbackRules say which fields of the applied object are copied into
	// status.resourceStatus.manifests[].statusFeedback.
	FeedbackRules []FeedbackRule `json:"feedbackRules,omitempty"`
	// FeedbackScrapeType is Poll (default) or Watch.
	FeedbackScrapeType FeedbackScrapeType `json:"feedbackScrapeType,omitempty"`
	// UpdateStrategy defaults to Update.
	UpdateStrategy *UpdateStrategy `json:"updateStrategy,omitempty"`
	// ConditionRules add conditions (for example Complete) computed from the object.
	ConditionRules []ConditionRule `json:"conditionRules,omitempty"`
}

// FeedbackScrapeType says how the agent collects feedback values.
type FeedbackScrapeType string

const (
	// FeedbackPollScrapeType reads the object every status sync interval.
	FeedbackPollScrapeType FeedbackScrapeType = "Poll"
	// FeedbackWatchScrapeType watches the object.
	FeedbackWatchScrapeType FeedbackScrapeType = "Watch"
)

// FeedBackType is feedbackRules[].type.
type FeedBackType string

const (
	// WellKnownStatusType reports a fixed set of fields for well-known kinds (Deployment, Job, ...).
	WellKnownStatusType FeedBackType = "WellKnownStatus"
	// JSONPathsType reports the fields named by JsonPaths.
	JSONPathsType FeedBackType = "JSONPaths"
)

// FeedbackRule is one entry of manifestConfigs[].feedbackRules.
type FeedbackRule struct {
	Type FeedBackType `json:"type"`
	// JsonPaths is used when Type is JSONPaths.
	JsonPaths []JsonPath `json:"jsonPaths,omitempty"`
}

// JsonPath names one field to report. Path is a Kubernetes JSONPath evaluated on the whole
// object (for example ".status.phase"); it must select a single scalar (integer, string or
// boolean), otherwise no value is reported.
type JsonPath struct {
	// Name is the key the value is reported under.
	Name string `json:"name"`
	// Version is the API version to read the object at; empty means the applied one.
	Version string `json:"version,omitempty"`
	Path    string `json:"path"`
}

// UpdateStrategyType is manifestConfigs[].updateStrategy.type.
type UpdateStrategyType string

const (
	// UpdateStrategyTypeUpdate makes the object equal to the manifest (the default).
	UpdateStrategyTypeUpdate UpdateStrategyType = "Update"
	// UpdateStrategyTypeCreateOnly creates the object if missing and never updates it.
	UpdateStrategyTypeCreateOnly UpdateStrategyType = "CreateOnly"
	// UpdateStrategyTypeServerSideApply server-side applies the manifest.
	UpdateStrategyTypeServerSideApply UpdateStrategyType = "ServerSideApply"
	// UpdateStrategyTypeReadOnly only reads the object (for feedback); it never writes it.
	UpdateStrategyTypeReadOnly UpdateStrategyType = "ReadOnly"
)

// UpdateStrategy is manifestConfigs[].updateStrategy.
type UpdateStrategy struct {
	// Type is required by the schema, which defaults it to Update when omitted.
	Type UpdateStrategyType `json:"type,omitempty"`
	// ServerSideApply is used when Type is ServerSideApply.
	ServerSideApply *ServerSideApplyConfig `json:"serverSideApply,omitempty"`
}

// DefaultFieldManager is the server-side apply field manager of the work agent. The CRD
// requires every custom field manager to start with it.
const DefaultFieldManager = "work-agent"

// ServerSideApplyConfig tunes server-side apply.
type ServerSideApplyConfig struct {
	// Force takes ownership of conflicting fields instead of reporting ApplyConflict.
	Force bool `json:"force,omitempty"`
	// FieldManager defaults to "work-agent" and must start with it.
	FieldManager string `json:"fieldManager,omitempty"`
	// IgnoreFields are left alone on the managed cluster.
	IgnoreFields []IgnoreField `json:"ignoreFields,omitempty"`
}

// IgnoreFieldsCondition says when IgnoreField applies.
type IgnoreFieldsCondition string

const (
	// IgnoreFieldsConditionOnSpokePresent ignores the fields whenever the object exists.
	IgnoreFieldsConditionOnSpokePresent IgnoreFieldsCondition = "OnSpokePresent"
	// IgnoreFieldsConditionOnSpokeChange ignores only changes made on the managed cluster.
	IgnoreFieldsConditionOnSpokeChange IgnoreFieldsCondition = "OnSpokeChange"
)

// IgnoreField lists fields server-side apply leaves alone.
type IgnoreField struct {
	// Condition is required by the schema, which defaults it to OnSpokePresent when omitted.
	Condition         IgnoreFieldsCondition `json:"condition,omitempty"`
	JSONPaths         []string              `json:"jsonPaths,omitempty"`
	JSONPointers      []string              `json:"jsonPointers,omitempty"`
	JQPathExpressions []string              `json:"jqPathExpressions,omitempty"`
}

// ConditionRuleType is conditionRules[].type.
type ConditionRuleType string

const (
	// WellKnownConditionsType uses built-in rules (Job and Pod completion).
	WellKnownConditionsType ConditionRuleType = "WellKnownConditions"
	// CelConditionExpressionsType evaluates CelExpressions.
	CelConditionExpressionsType ConditionRuleType = "CEL"
)

// ConditionRule derives a manifest condition from the applied object.
type ConditionRule struct {
	// Condition is the condition type to set, for example "Complete".
	Condition string            `json:"condition"`
	Type      ConditionRuleType `json:"type"`
	// CelExpressions are ANDed; used when Type is CEL.
	CelExpressions    []string `json:"celExpressions,omitempty"`
	Message           string   `json:"message,omitempty"`
	MessageExpression string   `json:"messageExpression,omitempty"`
}

// ManifestWorkExecutor is spec.executor.
type ManifestWorkExecutor struct {
	Subject ManifestWorkExecutorSubject `json:"subject,omitempty"`
}

// ManifestWorkExecutorSubjectType is spec.executor.subject.type.
type ManifestWorkExecutorSubjectType string

// ExecutorSubjectTypeServiceAccount is the only subject type OCM defines.
const ExecutorSubjectTypeServiceAccount ManifestWorkExecutorSubjectType = "ServiceAccount"

// ManifestWorkExecutorSubject is the identity the agent impersonates.
type ManifestWorkExecutorSubject struct {
	Type           ManifestWorkExecutorSubjectType    `json:"type"`
	ServiceAccount *ManifestWorkSubjectServiceAccount `json:"serviceAccount,omitempty"`
}

// ManifestWorkSubjectServiceAccount is a service account on the managed cluster.
type ManifestWorkSubjectServiceAccount struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// ManifestWorkStatus is reported by the work agent.
type ManifestWorkStatus struct {
	// Conditions are work-level: Applied, Available, Progressing, Degraded.
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// ResourceStatus has one entry per manifest.
	ResourceStatus ManifestResourceStatus `json:"resourceStatus,omitempty"`
}

// ManifestResourceStatus is status.resourceStatus.
type ManifestResourceStatus struct {
	Manifests []ManifestCondition `json:"manifests,omitempty"`
}

// ManifestCondition is the status of one manifest.
type ManifestCondition struct {
	// ResourceMeta identifies the manifest (Ordinal is its index in spec.workload.manifests).
	ResourceMeta ManifestResourceMeta `json:"resourceMeta"`
	// StatusFeedbacks holds the values selected by the manifest's feedback rules.
	StatusFeedbacks StatusFeedbackResult `json:"statusFeedback,omitempty"`
	// Conditions are required by the schema: never leave this nil when writing status
	// (a nil slice is sent as null, pruned, and the write is refused).
	Conditions []metav1.Condition `json:"conditions"`
}

// ManifestResourceMeta identifies an applied manifest.
type ManifestResourceMeta struct {
	// Ordinal is the index of the manifest in spec.workload.manifests.
	Ordinal   int32  `json:"ordinal"`
	Group     string `json:"group,omitempty"`
	Version   string `json:"version,omitempty"`
	Kind      string `json:"kind,omitempty"`
	Resource  string `json:"resource,omitempty"`
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// StatusFeedbackResult is resourceStatus.manifests[].statusFeedback.
type StatusFeedbackResult struct {
	Values []FeedbackValue `json:"values,omitempty"`
}

// FeedbackValue is one reported field.
type FeedbackValue struct {
	// Name is the JsonPath name (or the well-known field name).
	Name  string     `json:"name"`
	Value FieldValue `json:"fieldValue"`
}

// ValueType is fieldValue.type.
type ValueType string

// The value types a feedback value can have.
const (
	Integer ValueType = "Integer"
	String  ValueType = "String"
	Boolean ValueType = "Boolean"
	// JsonRaw carries lists and objects as JSON text (at most 1024 bytes); upstream agents
	// only report it behind a feature gate.
	JsonRaw ValueType = "JsonRaw"
)

// FieldValue is a typed scalar; exactly the member named by Type is set.
type FieldValue struct {
	Type    ValueType `json:"type"`
	Integer *int64    `json:"integer,omitempty"`
	String  *string   `json:"string,omitempty"`
	Boolean *bool     `json:"boolean,omitempty"`
	JsonRaw *string   `json:"jsonRaw,omitempty"`
}
