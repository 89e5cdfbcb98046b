import { Size } from 'cdk8s';

/** Options of `PrometheusStorage.emptyDir`. */
export interface EmptyDirStorageOptions {
  /**
   * Most the TSDB may use on the node's disk; above it the kubelet evicts the pod.
   * @default - no limit
   */
  readonly sizeLimit?: Size;
}

/** Options of `PrometheusStorage.persistentVolumeClaim`. */
export interface PersistentStorageOptions {
  /** Size of the volume requested. */
  readonly size: Size;
  /**
   * StorageClass of the volume.
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
}

/** Where Prometheus keeps its TSDB (`/prometheus`). */
export class PrometheusStorage {
  /**
   * A pod-local emptyDir: the data goes with the pod (every config change rolls the pod). Right for
   * dev and benchmark runs, as in the seed post.
   */
  public static emptyDir(options: EmptyDirStorageOptions = {}): PrometheusStorage {
    return new PrometheusStorage(false, options.sizeLimit, undefined);
  }

  /** A PersistentVolumeClaim (ReadWriteOnce): the data survives pod restarts and config changes. */
  public static persistentVolumeClaim(options: PersistentStorageOptions): PrometheusStorage {
    return new PrometheusStorage(true, options.size, options.storageClassName);
  }

  private constructor(
    /** True for a PersistentVolumeClaim. */
    public readonly persistent: boolean,
    /** The volume size, or the emptyDir size limit. */
    public readonly size: Size | undefined,
    /** StorageClass of a PersistentVolumeClaim. */
    public readonly storageClassName: string | undefined,
  ) {}
}
